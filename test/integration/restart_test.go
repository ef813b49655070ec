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

// TestCrashedContainerRestarts: a container that exits is restarted under
// restartPolicy Always, seen from containerd's exit event; restartCount and
// lastState record it, each attempt logs to its own file, and a Never pod
// ends Failed.
func TestCrashedContainerRestarts(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("crash.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "echo attempt; sleep 0.2; exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "exit 4"]
`, BusyboxImage))
	p := d.waitPod("crash", 60*time.Second, "restarted twice", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 {
			return fmt.Errorf("no container status yet")
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount < 2 {
			return fmt.Errorf("restartCount %d", cs.RestartCount)
		}
		if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 3 || last.Reason != "Error" {
			return fmt.Errorf("lastState %+v", cs.LastTerminationState)
		}
		return nil
	})
	if p.Status.Phase != v1.PodRunning {
		t.Errorf("a crash-looping pod under Always is %s, want Running", p.Status.Phase)
	}
	// Each attempt logs to a file of its own; the previous attempt's is
	// kept (older ones go with their containers, see
	// TestOldAttemptLogsRemoved).
	dir := filepath.Join(d.LogDir, fmt.Sprintf("default_crash_%s", p.UID), "app")
	n := p.Status.ContainerStatuses[0].RestartCount
	prev := filepath.Join(dir, fmt.Sprintf("%d.log", n-1))
	if b, err := os.ReadFile(prev); err != nil || !strings.Contains(string(b), "attempt") {
		t.Errorf("log of the previous attempt %s: %q %v", prev, b, err)
	}
	d.eventually(10*time.Second, "the current attempt logs to its own file", func() error {
		cur := filepath.Join(dir, fmt.Sprintf("%d.log", n))
		if b, err := os.ReadFile(cur); err != nil || !strings.Contains(string(b), "attempt") {
			return fmt.Errorf("log of %s: %q %v", cur, b, err)
		}
		return nil
	})
	once := d.waitPod("once", 30*time.Second, "fails", func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodFailed {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		return nil
	})
	cs := once.Status.ContainerStatuses[0]
	if cs.RestartCount != 0 || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 4 {
		t.Errorf("restartPolicy Never: %+v", cs)
	}
}

// TestTwoDaemonsSideBySide: two daemons on one containerd, with different
// namespaces, networks and directories, run pods of the same name without
// seeing or touching each other's.
func TestTwoDaemonsSideBySide(t *testing.T) {
	a := startDaemon(t)
	b := startDaemon(t)
	a.writeManifest("same.yaml", sleeperPod("same", ""))
	b.writeManifest("same.yaml", sleeperPod("same", ""))
	pa := a.waitPod("same", 60*time.Second, "runs", allRunning)
	pb := b.waitPod("same", 60*time.Second, "runs", allRunning)
	pauseA, _ := a.pids(pa)
	pauseB, _ := b.pids(pb)
	if pauseA == pauseB || pa.Status.PodIP == pb.Status.PodIP {
		t.Fatalf("the daemons share a pod: pause %d/%d, IP %s/%s", pauseA, pauseB, pa.Status.PodIP, pb.Status.PodIP)
	}
	a.removeManifest("same.yaml")
	a.waitGone("same", 30*time.Second)
	a.assertClean()
	if !processAlive(pauseB) {
		t.Fatal("removing daemon A's pod stopped daemon B's")
	}
	if p, err := b.pod("default", "same"); err != nil || allRunning(p) != nil {
		t.Fatalf("daemon B's pod: %v", err)
	}
}

// TestOOMKilled: a container killed by the OOM killer reports reason
// OOMKilled in its state.
func TestOOMKilled(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("oom.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - name: hog
    image: %s
    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]
    resources: {limits: {memory: 16Mi}}
`, BusyboxImage))
	p := d.waitPod("oom", 60*time.Second, "is OOM-killed", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Terminated == nil {
			return fmt.Errorf("not terminated yet")
		}
		return nil
	})
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term.Reason != "OOMKilled" || term.ExitCode != 137 {
		t.Fatalf("terminated %+v, want reason OOMKilled exit 137", term)
	}
}
