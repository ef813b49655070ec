package integration

import (
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/pod"
)

// TestKilledMidway: minilet dies with SIGKILL at each step of making and of
// removing a pod. A new daemon converges: exactly one sandbox and one
// container of each, the pod running, and, once its manifest is removed,
// nothing left (netns, IP, mounts, snapshots, cgroups).
func TestKilledMidway(t *testing.T) {
	for _, point := range []string{pod.CrashNetnsCreated, pod.CrashNetworkAttached, pod.CrashSandboxStarted, pod.CrashContainerCreated} {
		t.Run(point, func(t *testing.T) {
			d := startDaemon(t)
			d.signal(syscall.SIGTERM)
			exited := d.startProcess("--test-crash-at", point)
			d.writeManifest("half.yaml", sleeperPod("half", ""))
			select {
			case <-exited:
			case <-time.After(60 * time.Second):
				t.Fatalf("the daemon did not reach crash point %s", point)
			}
			if !strings.Contains(d.output.String(), "test crash point reached") {
				t.Fatalf("the daemon died, but not at the crash point:\n%s", d.output.String())
			}
			d.Exited()

			d.start()
			p := d.waitPod("half", 60*time.Second, "runs after the crash", allRunning)
			d.assertOneOfEach(p)
			d.removeManifest("half.yaml")
			d.waitGone("half", 30*time.Second)
			d.assertClean()
		})
	}
	t.Run(pod.CrashContainersKilled, func(t *testing.T) {
		d := startDaemon(t)
		d.writeManifest("half.yaml", sleeperPod("half", ""))
		d.waitPod("half", 60*time.Second, "runs", allRunning)
		d.signal(syscall.SIGTERM)
		exited := d.startProcess("--test-crash-at", pod.CrashContainersKilled)
		d.removeManifest("half.yaml")
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			t.Fatal("the daemon did not reach the crash point")
		}
		d.Exited()
		d.start()
		d.waitGone("half", 30*time.Second)
		d.assertClean()
	})
}

// assertOneOfEach checks the runtime holds one sandbox and one container
// per container of the pod: no duplicates from a half-done earlier run.
func (d *daemon) assertOneOfEach(p *v1.Pod) {
	d.t.Helper()
	out, err := env2ctr(d, "containers", "ls", "-q")
	if err != nil {
		d.t.Fatal(err)
	}
	ids := strings.Fields(out)
	if len(ids) != 1+len(p.Spec.Containers) {
		d.t.Fatalf("containers %v, want one sandbox and %d app containers", ids, len(p.Spec.Containers))
	}
	tasks, _ := env2ctr(d, "tasks", "ls")
	if n := strings.Count(tasks, "RUNNING"); n != len(ids) {
		d.t.Fatalf("%d running tasks for %d containers:\n%s", n, len(ids), tasks)
	}
	if rc := p.Status.ContainerStatuses[0].RestartCount; rc != 0 {
		d.t.Errorf("restartCount %d after a daemon crash, want 0", rc)
	}
}
