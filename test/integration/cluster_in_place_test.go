package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestClusterInPlaceChanges: what the API server lets change in a running
// pod is taken in place, as the kubelet takes it. A toleration added
// restarts nothing. `kubectl set image` on a bare pod with restartPolicy
// Never kills that container (its grace period) and starts it again from
// the new image, in the same sandbox: same pod IP, restartCount 1, the
// new image's USER, the other container untouched, and a Killing event
// that says why.
func TestClusterInPlaceChanges(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	d.importUserImage()
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	path := filepath.Join(t.TempDir(), "inplace.yaml")
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: inplace}
spec:
  nodeName: %s
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: %s, command: ["sleep", "3600"]}
  - {name: side, image: %s, command: ["sleep", "3600"]}
`, name, BusyboxImage, BusyboxImage)
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, p, "apply", "-f", path)
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "-f", path, "--wait=false") })
	running := func(ap *v1.Pod) error {
		if ap.Status.Phase != v1.PodRunning || len(ap.Status.ContainerStatuses) != 2 {
			return fmt.Errorf("phase %s", ap.Status.Phase)
		}
		for _, cs := range ap.Status.ContainerStatuses {
			if cs.State.Running == nil {
				return fmt.Errorf("%s: %+v", cs.Name, cs.State)
			}
		}
		return nil
	}
	before := waitAPIObject(t, p, "inplace running", 60*time.Second, running, "get", "pod", "inplace")
	ids := func(ap *v1.Pod) map[string]string {
		out := map[string]string{}
		for _, cs := range ap.Status.ContainerStatuses {
			out[cs.Name] = cs.ContainerID
		}
		return out
	}
	first := ids(before)

	kubectl(t, p, "patch", "pod", "inplace", "--type=json", "-p",
		`[{"op":"add","path":"/spec/tolerations/-","value":{"key":"example.com/maintenance","operator":"Exists","effect":"NoSchedule"}}]`)
	d.waitPod("inplace", 30*time.Second, "has the new toleration", func(local *v1.Pod) error {
		for _, tol := range local.Spec.Tolerations {
			if tol.Key == "example.com/maintenance" {
				return nil
			}
		}
		return fmt.Errorf("tolerations %+v", local.Spec.Tolerations)
	})
	if now := ids(waitAPIObject(t, p, "inplace running", 10*time.Second, running, "get", "pod", "inplace")); now["main"] != first["main"] || now["side"] != first["side"] {
		t.Fatalf("a toleration restarted containers: %v → %v", first, now)
	}

	kubectl(t, p, "set", "image", "pod/inplace", "main="+UserImage)
	after := waitAPIObject(t, p, "main restarted from the new image", 60*time.Second, func(ap *v1.Pod) error {
		if err := running(ap); err != nil {
			return err
		}
		cs := ap.Status.ContainerStatuses[0]
		if cs.Name != "main" || cs.Image != UserImage || cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil {
			return fmt.Errorf("main: image %s restartCount %d last %+v", cs.Image, cs.RestartCount, cs.LastTerminationState)
		}
		return nil
	}, "get", "pod", "inplace")
	if after.Status.PodIP != before.Status.PodIP || after.Status.PodIP == "" {
		t.Errorf("pod IP %s, before %s", after.Status.PodIP, before.Status.PodIP)
	}
	if now := ids(after); now["side"] != first["side"] || now["main"] == first["main"] {
		t.Errorf("containers %v, before %v", now, first)
	}
	if side := after.Status.ContainerStatuses[1]; side.RestartCount != 0 || side.Image != BusyboxImage {
		t.Errorf("side: %+v", side)
	}
	if out := strings.TrimSpace(d.cli("exec", "inplace", "-c", "main", "--", "id", "-u")); out != "1000" {
		t.Errorf("main runs as %q, not the new image's user 1000", out)
	}
	if e := findEvent(d.events("inplace"), "Killing", "Container main definition changed, will be restarted"); e == nil {
		t.Errorf("no Killing event for the change: %+v", d.events("inplace"))
	}
}
