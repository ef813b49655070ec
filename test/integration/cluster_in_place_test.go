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

// TestClusterResize: `kubectl patch --subresource resize` of a running
// pod, as the kubelet does it. A cpu change (resizePolicy NotRequired)
// rewrites the container's cgroup in place: same PID, CFS quota of the
// new limit, the status's resources follow and no resize condition is
// left. A memory change with resizePolicy RestartContainer restarts that
// container alone with the new limit. A resize beyond the node is
// Infeasible (PodResizePending, the kubelet's message) and changes
// nothing.
func TestClusterResize(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	path := filepath.Join(t.TempDir(), "resize.yaml")
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: resize}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: ["sleep", "3600"]
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 100m, memory: 64Mi}}
    resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}, {resourceName: memory, restartPolicy: RestartContainer}]
  - name: side
    image: %s
    command: ["sleep", "3600"]
    resources: {requests: {cpu: 50m, memory: 32Mi}, limits: {cpu: 50m, memory: 32Mi}}
`, name, BusyboxImage, BusyboxImage)
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, p, "apply", "-f", path)
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "-f", path, "--wait=false") })
	settled := func(what string, check func(main, side v1.ContainerStatus) error) *v1.Pod {
		t.Helper()
		return waitAPIObject(t, p, what, 60*time.Second, func(ap *v1.Pod) error {
			if ap.Status.Phase != v1.PodRunning || len(ap.Status.ContainerStatuses) != 2 {
				return fmt.Errorf("phase %s", ap.Status.Phase)
			}
			for _, c := range ap.Status.Conditions {
				if c.Type == v1.PodResizePending || c.Type == v1.PodResizeInProgress {
					return fmt.Errorf("condition %s %s: %s", c.Type, c.Reason, c.Message)
				}
			}
			main, side := ap.Status.ContainerStatuses[0], ap.Status.ContainerStatuses[1]
			if main.State.Running == nil || side.State.Running == nil || main.Resources == nil {
				return fmt.Errorf("main %+v side %+v", main.State, side.State)
			}
			return check(main, side)
		}, "get", "pod", "resize")
	}
	pidOf := func(container string) uint32 {
		t.Helper()
		local, err := d.pod("default", "resize")
		if err != nil {
			t.Fatal(err)
		}
		_, pids := d.pids(local)
		return pids[container]
	}
	before := settled("resize running", func(main, _ v1.ContainerStatus) error {
		if got := main.Resources.Limits.Cpu().MilliValue(); got != 100 {
			return fmt.Errorf("main's cpu limit %dm", got)
		}
		return nil
	})
	mainPID, sidePID := pidOf("main"), pidOf("side")
	if got := cgroupFile(t, mainPID, "cpu", "cpu.cfs_quota_us", "cpu.max"); !strings.HasPrefix(got, "10000") {
		t.Fatalf("main's cpu quota %s before the resize", got)
	}

	kubectl(t, p, "patch", "pod", "resize", "--subresource", "resize", "-p",
		`{"spec":{"containers":[{"name":"main","resources":{"requests":{"cpu":"300m"},"limits":{"cpu":"300m"}}}]}}`)
	after := settled("main at 300m", func(main, _ v1.ContainerStatus) error {
		if got := main.Resources.Limits.Cpu().MilliValue(); got != 300 {
			return fmt.Errorf("main's cpu limit %dm", got)
		}
		return nil
	})
	if after.Status.ContainerStatuses[0].ContainerID != before.Status.ContainerStatuses[0].ContainerID || after.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("main was restarted for a cpu resize: %+v", after.Status.ContainerStatuses[0])
	}
	if pidOf("main") != mainPID {
		t.Error("main's process changed")
	}
	if got := cgroupFile(t, mainPID, "cpu", "cpu.cfs_quota_us", "cpu.max"); !strings.HasPrefix(got, "30000") {
		t.Errorf("main's cpu quota %s after the resize, want 30000", got)
	}
	if got := cgroupFile(t, mainPID, "cpu", "cpu.shares", "cpu.weight"); got != "307" && !strings.HasPrefix(got, "12") {
		t.Errorf("main's cpu shares %s after the resize", got)
	}

	kubectl(t, p, "patch", "pod", "resize", "--subresource", "resize", "-p",
		`{"spec":{"containers":[{"name":"main","resources":{"requests":{"memory":"96Mi"},"limits":{"memory":"96Mi"}}}]}}`)
	settled("main restarted with 96Mi", func(main, side v1.ContainerStatus) error {
		if main.RestartCount != 1 || main.Resources.Limits.Memory().Value() != 96<<20 {
			return fmt.Errorf("main: restartCount %d, memory limit %v", main.RestartCount, main.Resources.Limits.Memory())
		}
		if side.RestartCount != 0 {
			return fmt.Errorf("side restarted %d times", side.RestartCount)
		}
		return nil
	})
	if newPID := pidOf("main"); newPID == mainPID {
		t.Error("main was not restarted for a memory resize with RestartContainer")
	} else if got := cgroupFile(t, newPID, "memory", "memory.limit_in_bytes", "memory.max"); got != fmt.Sprint(96<<20) {
		t.Errorf("main's memory limit %s after the restart, want %d", got, 96<<20)
	}
	if pidOf("side") != sidePID {
		t.Error("side's process changed")
	}
	if e := findEvent(d.events("resize"), "Killing", "Container main resize requires restart"); e == nil {
		t.Errorf("no Killing event for the restart: %+v", d.events("resize"))
	}

	kubectl(t, p, "patch", "pod", "resize", "--subresource", "resize", "-p",
		`{"spec":{"containers":[{"name":"side","resources":{"requests":{"cpu":"100"},"limits":{"cpu":"100"}}}]}}`)
	refused := waitAPIObject(t, p, "the resize beyond the node pending", 60*time.Second, func(ap *v1.Pod) error {
		for _, c := range ap.Status.Conditions {
			if c.Type == v1.PodResizePending && c.Reason == v1.PodReasonInfeasible {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", ap.Status.Conditions)
	}, "get", "pod", "resize")
	for _, c := range refused.Status.Conditions {
		if c.Type == v1.PodResizePending && !strings.HasPrefix(c.Message, "Node didn't have enough capacity: cpu, requested: 100") {
			t.Errorf("Infeasible message %q", c.Message)
		}
	}
	if got := cgroupFile(t, sidePID, "cpu", "cpu.cfs_quota_us", "cpu.max"); !strings.HasPrefix(got, "5000") {
		t.Errorf("side's cpu quota %s after an infeasible resize, want 5000", got)
	}
}
