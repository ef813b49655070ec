package pod

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/runtime"
)

func configMap(name string, data map[string]string) manifest.Object {
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: data}
	hash := name
	for k, v := range data {
		hash += k + "=" + v + ";"
	}
	return manifest.Object{File: "/etc/minilet/cm.yaml", Hash: hash, ConfigMap: cm}
}

func (h *harness) setObjects(objs ...manifest.Object) {
	h.w.d.objects.Store(manifest.NewObjectSet(objs))
}

func (h *harness) hasEventText(reason, text string) bool {
	for _, e := range h.w.events.list() {
		if e.Reason == reason && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

func podWithConfigVolume() *v1.Pod {
	pod := newPod(v1.RestartPolicyAlways, nil, "app")
	pod.Spec.Volumes = []v1.Volume{{Name: "cfg", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
		LocalObjectReference: v1.LocalObjectReference{Name: "settings"}}}}}
	return pod
}

func TestPodWaitsForItsConfigMapThenStarts(t *testing.T) {
	h := newHarness(t, podWithConfigVolume())
	if wake := h.sync(); wake != volumeRetryDelay {
		t.Fatalf("wake in %v, want %v", wake, volumeRetryDelay)
	}
	cs, _ := h.rt.ListContainers(t.Context(), nil)
	if len(cs) != 0 {
		t.Fatalf("%d containers made for a pod whose ConfigMap is missing", len(cs))
	}
	st := h.status()
	if st.Phase != v1.PodPending || st.ContainerStatuses[0].State.Waiting == nil || st.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating" {
		t.Fatalf("status: %s %+v", st.Phase, st.ContainerStatuses[0].State)
	}
	if !h.hasEventText("FailedMount", `MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found`) {
		t.Fatalf("no FailedMount event: %+v", h.w.events.list())
	}

	h.setObjects(configMap("settings", map[string]string{"a": "1"}))
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("app not started once its ConfigMap exists")
	}
	if got := string(h.host.volumes["cfg"]["a"].Data); got != "1" {
		t.Fatalf("volume file a = %q", got)
	}

	// An edit: the files change, the container does not restart.
	h.setObjects(configMap("settings", map[string]string{"a": "2"}))
	h.sync()
	if got := string(h.host.volumes["cfg"]["a"].Data); got != "2" {
		t.Fatalf("after the edit, volume file a = %q", got)
	}
	if h.state(h.id("app", 0)) != runtime.StateRunning || h.state(h.id("app", 1)) != "absent" {
		t.Fatal("the container restarted for a ConfigMap edit")
	}
	writes := h.host.writes
	h.sync()
	if h.host.writes != writes {
		t.Fatal("unchanged files written again")
	}

	// Removed: the pod keeps running with its last files.
	h.setObjects()
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning || string(h.host.volumes["cfg"]["a"].Data) != "2" {
		t.Fatal("removing the ConfigMap harmed the running pod")
	}
}

func TestOptionalConfigMapStartsAtOnce(t *testing.T) {
	pod := podWithConfigVolume()
	yes := true
	pod.Spec.Volumes[0].ConfigMap.Optional = &yes
	h := newHarness(t, pod)
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("a pod with an optional missing ConfigMap did not start")
	}
	if p, ok := h.host.volumes["cfg"]; !ok || len(p) != 0 {
		t.Fatalf("volume: %v %v", p, ok)
	}
}

func TestEnvFromMissingConfigMapIsCreateContainerConfigError(t *testing.T) {
	pod := newPod(v1.RestartPolicyAlways, nil, "app")
	pod.Spec.Containers[0].Env = []v1.EnvVar{{Name: "MODE", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{
		LocalObjectReference: v1.LocalObjectReference{Name: "settings"}, Key: "mode"}}}}
	h := newHarness(t, pod)
	h.sync()
	cs := h.status().ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CreateContainerConfigError" || cs.State.Waiting.Message != `configmap "settings" not found` {
		t.Fatalf("state: %+v", cs.State)
	}
	if !h.hasEventText("Failed", `Error: configmap "settings" not found`) {
		t.Fatalf("events: %+v", h.w.events.list())
	}
	// The ConfigMap arrives: the manager tells the worker, which tries
	// again at once, not after the back-off.
	h.setObjects(configMap("settings", map[string]string{"mode": "fast"}))
	h.w.objectsChanged()
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("app not started once the ConfigMap exists")
	}
}

func TestChangedObjects(t *testing.T) {
	a1, a2, b := configMap("a", map[string]string{"k": "1"}), configMap("a", map[string]string{"k": "2"}), configMap("b", nil)
	got := changedObjects([]manifest.Object{a1, b}, []manifest.Object{a2})
	if len(got) != 2 || !got["ConfigMap default/a"] || !got["ConfigMap default/b"] {
		t.Fatalf("changed: %v", got)
	}
	if got := changedObjects([]manifest.Object{a1}, []manifest.Object{a1}); len(got) != 0 {
		t.Fatalf("unchanged: %v", got)
	}
	pod := podWithConfigVolume()
	if !refersToAny(pod, map[string]bool{"ConfigMap default/settings": true}) || refersToAny(pod, map[string]bool{"Secret default/settings": true}) {
		t.Fatal("refersToAny")
	}
}

func TestActiveDeadlineSeconds(t *testing.T) {
	pod := newPod(v1.RestartPolicyAlways, nil, "app")
	d := int64(30)
	pod.Spec.ActiveDeadlineSeconds = &d
	pod.CreationTimestamp = metav1.NewTime(time.Unix(1_700_000_000, 0))
	h := newHarness(t, pod)
	if wake := h.sync(); wake != 30*time.Second {
		t.Fatalf("wake in %v, want the deadline's 30s", wake)
	}
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("not started")
	}
	h.now = h.now.Add(29 * time.Second)
	if wake := h.sync(); wake != time.Second || h.status().Phase != v1.PodRunning {
		t.Fatalf("before the deadline: wake %v phase %s", wake, h.status().Phase)
	}
	h.now = h.now.Add(time.Second)
	h.sync()
	if h.state(h.id("app", 0)) == runtime.StateRunning {
		t.Fatal("still running past its deadline")
	}
	st := h.status()
	if st.Phase != v1.PodFailed || st.Reason != ReasonDeadlineExceeded || st.Message != MessageDeadlineExceeded {
		t.Fatalf("status: %s %s %s", st.Phase, st.Reason, st.Message)
	}
	h.now = h.now.Add(time.Minute)
	h.sync()
	if h.state(h.id("app", 1)) != "absent" {
		t.Fatal("restarted after the deadline")
	}
}
