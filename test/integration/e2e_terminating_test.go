package integration

// Twins of the kubelet's e2e cases 22 and 23 (container_probe.go): probes
// of a pod that is terminating.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Case 22: "should mark readiness on pods to false while pod is in
// progress of terminating". The container traps SIGTERM, removes its
// readiness file and takes 6 s to exit; between the manifest's removal and
// the pod's end, the pod must be seen not Ready.
func TestE2EProbe22ReadinessFalseWhileTerminating(t *testing.T) {
	t.Parallel()
	d := startE2EDaemon(t)
	d.writeManifest("term.yaml", manifest(`apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  terminationGracePeriodSeconds: 15
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "trap 'rm -f /tmp/ready; sleep 6; exit 0' TERM; touch /tmp/ready; sleep 1000 & wait"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
	d.waitPod("term", 60*time.Second, "is Ready", readyCond)
	removed := time.Now()
	d.removeManifest("term.yaml")
	notReadyAt, _ := d.watchTermination("term", removed, nil)
	if notReadyAt < 0 {
		t.Fatal("the pod was never seen not Ready between its removal and its end")
	}
	if notReadyAt > 4*time.Second {
		t.Errorf("the pod was first seen not Ready %v after its removal (its container exits 6 s after SIGTERM)", notReadyAt)
	}
}

// Case 23: "should mark readiness on pods to false and disable liveness
// probes while pod is in progress of terminating". On SIGTERM the
// container also removes the file its liveness probe (period 1, failure
// threshold 1) reads, and stays 8 s: no liveness failure may be recorded
// while it terminates.
func TestE2EProbe23LivenessOffWhileTerminating(t *testing.T) {
	t.Parallel()
	d := startE2EDaemon(t)
	d.writeManifest("term.yaml", manifest(`apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  terminationGracePeriodSeconds: 15
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "trap 'rm -f /tmp/ready /tmp/liveness; sleep 8; exit 0' TERM; touch /tmp/ready /tmp/liveness; sleep 1000 & wait"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
    livenessProbe:
      exec: {command: ["cat", "/tmp/liveness"]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
	d.waitPod("term", 60*time.Second, "is Ready", readyCond)
	d.eventually(10*time.Second, "the liveness probe has run", func() error {
		if n := d.probeCount("term", "busybox", "Liveness", "successful"); n < 2 {
			return fmt.Errorf("%d successful liveness probes", n)
		}
		return nil
	})
	removed := time.Now()
	d.removeManifest("term.yaml")
	notReadyAt, last := d.watchTermination("term", removed, func(evs []v1.Event) {
		if e := findEvent(evs, "Killing", "failed liveness probe"); e != nil {
			t.Fatalf("a liveness probe failed while the pod was terminating: %s", e.Message)
		}
		if e := findEvent(evs, "Unhealthy", "Liveness probe failed"); e != nil {
			t.Fatalf("the liveness probe ran and failed while the pod was terminating: %s", e.Message)
		}
	})
	if notReadyAt < 0 {
		t.Fatal("the pod was never seen not Ready between its removal and its end")
	}
	if last < 6*time.Second {
		t.Errorf("the pod was listed only %v after its removal: the window saw too few liveness periods", last)
	}
}

// readyCond is a waitPod condition: the pod is Ready.
func readyCond(p *v1.Pod) error {
	if !isReady(p) {
		return fmt.Errorf("not Ready: %+v", p.Status.Conditions)
	}
	return nil
}

// watchTermination samples a pod that was removed at removed until it is
// gone, checking its events with check (if not nil) at each sample. It
// returns how long after removal the pod was first seen not Ready (-1:
// never), and when it was last seen listed.
func (d *daemon) watchTermination(pod string, removed time.Time, check func([]v1.Event)) (notReadyAt, lastSeen time.Duration) {
	d.t.Helper()
	notReadyAt = -1
	deadline := removed.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p, err := d.pod("default", pod)
		if err != nil {
			if !strings.Contains(err.Error(), "not found") {
				d.t.Fatalf("pod %s: %v", pod, err)
			}
			return notReadyAt, lastSeen
		}
		now := time.Since(removed)
		lastSeen = now
		cs := containerStatus(p, "busybox")
		if !isReady(p) && (cs == nil || !cs.Ready) && notReadyAt < 0 {
			notReadyAt = now
			d.t.Logf("not Ready %v after the removal (phase %s)", now.Round(time.Millisecond), p.Status.Phase)
		}
		if notReadyAt >= 0 && isReady(p) {
			d.t.Fatalf("the terminating pod became Ready again %v after its removal", now)
		}
		if check != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			evs, err := d.client.PodEvents(ctx, "default", pod)
			cancel()
			if err == nil {
				check(evs.Items)
			} else if !strings.Contains(err.Error(), "not found") {
				d.t.Fatalf("events of %s: %v", pod, err)
			}
		}
		time.Sleep(100 * time.Millisecond) // sampling the status, not synchronising
	}
	d.t.Fatalf("pod %s still listed 60 s after its removal", pod)
	return notReadyAt, lastSeen
}
