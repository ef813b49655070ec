package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestExecProbeTimeoutKillsChildren: an exec probe that outlives its
// timeout fails at once, and the process with the children it started is
// killed, so repeated runs leave nothing behind in the container.
func TestExecProbeTimeoutKillsChildren(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("slow.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %s
    command: ["sleep", "3600"]
    readinessProbe:
      exec: {command: ["sh", "-c", "sleep 31 & sleep 32"]}
      timeoutSeconds: 1
      periodSeconds: 1
`, BusyboxImage))
	p := d.waitPod("slow", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	pidns := nsInode(t, pids["app"], "pid")
	d.eventually(30*time.Second, "five probe runs timed out", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		evs, err := d.Client.PodEvents(ctx, "default", "slow")
		if err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == "Unhealthy" && strings.Contains(e.Message, "timed out") && e.Count >= 5 {
				return nil
			}
		}
		return fmt.Errorf("events: %+v", evs.Items)
	})
	// At most two runs are alive at an instant (one in flight, one being
	// killed), two sleeps each; without the kill of the process tree, every
	// run would leave two sleeps for 30s (10 or more by now).
	if n := countInPidNS(pidns, "sleep3"); n > 4 {
		t.Errorf("%d probe sleeps alive in the container: timed-out runs leak processes", n)
	}
	if p, _ := d.pod("default", "slow"); p != nil && p.Status.ContainerStatuses[0].Ready {
		t.Error("a readiness probe that times out made the container ready")
	}
}

// countInPidNS counts processes in the pid namespace ns whose command line
// starts with prefix (arguments joined without separators).
func countInPidNS(ns, prefix string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid")
		if err != nil || link != ns {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.HasPrefix(strings.ReplaceAll(string(b), "\x00", ""), prefix) {
			n++
		}
	}
	return n
}
