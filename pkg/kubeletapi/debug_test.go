package kubeletapi

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Only running containers are listed, a pod with none is left out.
func TestRunningPods(t *testing.T) {
	running := v1.ContainerState{Running: &v1.ContainerStateRunning{}}
	exited := v1.ContainerState{Terminated: &v1.ContainerStateTerminated{}}
	pods := []v1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1", Labels: map[string]string{"a": "b"}},
			Status: v1.PodStatus{
				InitContainerStatuses: []v1.ContainerStatus{{Name: "init", Image: "busybox", State: exited}, {Name: "side", Image: "proxy", State: running}},
				ContainerStatuses:     []v1.ContainerStatus{{Name: "app", Image: "nginx", State: running}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: "default", UID: "u2"},
			Status: v1.PodStatus{ContainerStatuses: []v1.ContainerStatus{{Name: "app", Image: "busybox", State: exited}}}},
	}
	got := runningPods(pods)
	if len(got) != 1 || got[0].Name != "web" || got[0].UID != "u1" || got[0].Labels != nil {
		t.Fatalf("pods %+v", got)
	}
	if cs := got[0].Spec.Containers; len(cs) != 2 || cs[0].Name != "side" || cs[0].Image != "proxy" || cs[1].Name != "app" || cs[1].Image != "nginx" {
		t.Errorf("containers %+v", cs)
	}
}
