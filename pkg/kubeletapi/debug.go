package kubeletapi

import (
	"encoding/json"
	"net/http"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// handleRunningPods lists the pods that have a running container, as the
// kubelet's /runningpods lists what its runtime runs: each pod's name,
// namespace and UID, and its running containers' names and images.
func (s *Server) handleRunningPods(w http.ResponseWriter, _ *http.Request) {
	l := v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: runningPods(s.pods.Pods())}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(l)
}

// runningPods reduces pods to their running containers, as the kubelet's
// runtime pods converted to the API.
func runningPods(pods []v1.Pod) []v1.Pod {
	out := []v1.Pod{}
	for _, p := range pods {
		var cs []v1.Container
		for _, list := range [][]v1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, st := range list {
				if st.State.Running != nil {
					cs = append(cs, v1.Container{Name: st.Name, Image: st.Image})
				}
			}
		}
		for _, st := range p.Status.EphemeralContainerStatuses {
			if st.State.Running != nil {
				cs = append(cs, v1.Container{Name: st.Name, Image: st.Image})
			}
		}
		if len(cs) == 0 {
			continue
		}
		out = append(out, v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
			Spec:       v1.PodSpec{Containers: cs},
		})
	}
	return out
}
