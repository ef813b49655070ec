package server

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodRestarter restarts the containers of a pod in place (the pod
// manager).
type PodRestarter interface {
	RestartPod(ctx context.Context, namespace, name string) error
}

// handleRestartPod is `minilet restart pod NAME`: 200 once the restart is
// recorded, 409 when the pod is in no state to restart.
func (s *Server) handleRestartPod(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if _, ok := s.findPod(ns, name); !ok {
		writeStatus(w, podNotFound(name))
		return
	}
	if s.restarter == nil {
		writeStatus(w, pathNotFound())
		return
	}
	if err := s.restarter.RestartPod(r.Context(), ns, name); err != nil {
		writeStatus(w, newStatus(http.StatusConflict, metav1.StatusReasonConflict, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", "pod/"+name+" restarted"))
}

// RestartPod asks the daemon to restart the containers of a pod in place
// and returns its message ("pod/web restarted").
func (c *Client) RestartPod(ctx context.Context, namespace, name string) (string, error) {
	return c.postForMessage(ctx, podPath(namespace, name)+"/restart")
}
