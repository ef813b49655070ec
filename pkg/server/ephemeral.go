package server

// The ephemeralcontainers subresource, as the API server's:
//
//	GET   /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers  v1.Pod
//	PATCH /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers  v1.Pod
//	      (strategic merge or merge patch of the pod; only
//	      spec.ephemeralContainers may change: kubectl debug's request)

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// Debugger adds ephemeral containers to a running pod (the pod manager).
type Debugger interface {
	// SetEphemeralContainers replaces the pod's ephemeral containers
	// with list. An error with an Invalid() method is the client's (422).
	SetEphemeralContainers(ctx context.Context, namespace, name string, list []v1.EphemeralContainer) (v1.Pod, error)
}

func (s *Server) handleEphemeralContainers(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	pod, ok := s.findPod(ns, name)
	if !ok {
		writeStatus(w, podNotFound(name))
		return
	}
	if r.Method != http.MethodPatch {
		writeJSON(w, http.StatusOK, pod)
		return
	}
	if s.debugger == nil {
		writeStatus(w, pathNotFound())
		return
	}
	body, ok := readPatch(w, r, "ephemeralcontainers take")
	if !ok {
		return
	}
	list, err := patchedEphemeral(pod, body)
	if err != nil {
		writeStatus(w, newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error()))
		return
	}
	got, err := s.debugger.SetEphemeralContainers(r.Context(), ns, name, list)
	var inv interface{ Invalid() bool }
	switch {
	case errors.As(err, &inv) && inv.Invalid():
		writeStatus(w, newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid,
			fmt.Sprintf("Pod %q is invalid: %v", name, err)))
		return
	case err != nil:
		writeStatus(w, newStatus(http.StatusConflict, metav1.StatusReasonConflict, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// patchedEphemeral applies a patch to the pod and returns its ephemeral
// containers; a patch that changes anything else is refused, as the
// subresource only takes them.
func patchedEphemeral(pod v1.Pod, patch []byte) ([]v1.EphemeralContainer, error) {
	orig, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(orig, patch, v1.Pod{})
	if err != nil {
		return nil, fmt.Errorf("the patch does not apply: %w", err)
	}
	var out v1.Pod
	if err := json.Unmarshal(patched, &out); err != nil {
		return nil, fmt.Errorf("the patched pod does not decode: %w", err)
	}
	a, b := pod.Spec.DeepCopy(), out.Spec.DeepCopy()
	a.EphemeralContainers, b.EphemeralContainers = nil, nil
	if !apiequality.Semantic.DeepEqual(a, b) {
		return nil, errors.New("only spec.ephemeralContainers may change through the ephemeralcontainers subresource")
	}
	return out.Spec.EphemeralContainers, nil
}

// PatchEphemeralContainers sends kubectl debug's strategic merge patch
// of a pod's ephemeral containers and returns the pod.
func (c *Client) PatchEphemeralContainers(ctx context.Context, namespace, name string, patch []byte) (*v1.Pod, error) {
	body, err := c.doBody(ctx, http.MethodPatch, podPath(namespace, name)+"/ephemeralcontainers", "application/strategic-merge-patch+json", patch)
	if err != nil {
		return nil, err
	}
	p := &v1.Pod{}
	if err := json.Unmarshal(body, p); err != nil {
		return nil, fmt.Errorf("decode the pod the daemon answered: %w", err)
	}
	return p, nil
}
