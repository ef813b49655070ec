package server

import (
	"net/http"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if s.health != nil {
		if err := s.health.Healthy(r.Context()); err != nil {
			writeStatus(w, unavailable(err))
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// handleListPods answers a PodList of every namespace, or of the one in
// the path.
func (s *Server) handleListPods(w http.ResponseWriter, r *http.Request) {
	sel, ok := selectorOf(w, r)
	if !ok {
		return
	}
	ns := r.PathValue("namespace")
	list := v1.PodList{
		TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
		Items:    []v1.Pod{},
	}
	for _, p := range s.src.Pods() {
		if (ns == "" || p.Namespace == ns) && sel.match(&p) {
			list.Items = append(list.Items, p)
		}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleGetPod(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	pod, ok := s.findPod(r.PathValue("namespace"), name)
	if !ok {
		writeStatus(w, podNotFound(name))
		return
	}
	pod.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	writeJSON(w, http.StatusOK, pod)
}

func (s *Server) handlePodEvents(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	if _, ok := s.findPod(ns, name); !ok {
		writeStatus(w, podNotFound(name))
		return
	}
	list := v1.EventList{
		TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"},
		Items:    []v1.Event{},
	}
	list.Items = append(list.Items, s.src.Events(ns, name)...)
	writeJSON(w, http.StatusOK, list)
}

// findPod returns the pod namespace/name. While a pod is replaced, the old
// one (being deleted) and the new one may both exist: the new one wins.
func (s *Server) findPod(ns, name string) (v1.Pod, bool) {
	var found v1.Pod
	ok := false
	for _, p := range s.src.Pods() {
		if p.Namespace != ns || p.Name != name {
			continue
		}
		if !ok || (found.DeletionTimestamp != nil && p.DeletionTimestamp == nil) {
			found, ok = p, true
		}
	}
	return found, ok
}

func (s *Server) handleManifestErrors(w http.ResponseWriter, _ *http.Request) {
	list := ManifestErrorList{Items: []string{}}
	if s.errs != nil {
		list.Items = append(list.Items, s.errs.ManifestErrors()...)
	}
	writeJSON(w, http.StatusOK, list)
}
