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
// the pod's end, the pod must be seen not Ready (the e2e's check), and so
// must the container's own status.
func TestE2EProbe22ReadinessFalseWhileTerminating(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("term.yaml", k.pod(`apiVersion: v1
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
		d.waitPod("term", 60*time.Second, "is Ready", containerReadyCond("busybox"))
		removed := time.Now()
		d.removeManifest("term.yaml")
		w := d.watchTermination("term", "busybox", removed, nil)
		w.check(t, 4*time.Second)
	})
}

// Case 23: "should mark readiness on pods to false and disable liveness
// probes while pod is in progress of terminating". On SIGTERM the
// container also removes the file its liveness probe (period 1, failure
// threshold 1) reads, and stays 8 s: no liveness failure may be recorded
// while it terminates.
func TestE2EProbe23LivenessOffWhileTerminating(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("term.yaml", k.pod(`apiVersion: v1
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
		d.waitPod("term", 60*time.Second, "is Ready", containerReadyCond("busybox"))
		d.eventually(10*time.Second, "the liveness probe has run", func() error {
			if n := d.probeCount("term", "busybox", "Liveness", "successful"); n < 2 {
				return fmt.Errorf("%d successful liveness probes", n)
			}
			return nil
		})
		removed := time.Now()
		d.removeManifest("term.yaml")
		w := d.watchTermination("term", "busybox", removed, func(evs []v1.Event) {
			if e := findEvent(evs, "Killing", "failed liveness probe"); e != nil {
				t.Fatalf("a liveness probe failed while the pod was terminating: %s", e.Message)
			}
			if e := findEvent(evs, "Unhealthy", "Liveness probe failed"); e != nil {
				t.Fatalf("the liveness probe ran and failed while the pod was terminating: %s", e.Message)
			}
		})
		if w.lastSeen < 6*time.Second {
			t.Errorf("the pod was listed only %v after its removal: the window saw too few liveness periods", w.lastSeen)
		}
		w.check(t, 4*time.Second)
	})
}

// readyCond is a waitPod condition: the pod is Ready.
func readyCond(p *v1.Pod) error {
	if !isReady(p) {
		return fmt.Errorf("not Ready: %+v", p.Status.Conditions)
	}
	return nil
}

// containerReadyCond is a waitPod condition: the pod and the named
// container are Ready.
func containerReadyCond(name string) func(*v1.Pod) error {
	return func(p *v1.Pod) error {
		if cs := containerStatus(p, name); cs == nil || !cs.Ready {
			return fmt.Errorf("container %s not ready", name)
		}
		return readyCond(p)
	}
}

// termination is what watchTermination saw of a terminating pod: how long
// after the removal the pod, and the container, were first seen not Ready
// (-1: never), and how long the pod was listed.
type termination struct {
	podNotReady, containerNotReady, lastSeen time.Duration
}

// check asserts that the pod and the container were seen not Ready while
// the pod terminated, the pod within bound of the removal.
func (w termination) check(t *testing.T, bound time.Duration) {
	t.Helper()
	if w.podNotReady < 0 {
		t.Fatal("the pod was never seen not Ready between its removal and its end")
	}
	if w.podNotReady > bound {
		t.Errorf("the pod was first seen not Ready %v after its removal, want within %v", w.podNotReady, bound)
	}
	if w.containerNotReady < 0 {
		t.Fatal("the container's status was never seen not ready between the removal and the pod's end")
	}
}

// watchTermination samples a pod that was removed at removed until it is
// gone, checking its events with check (if not nil) at each sample.
func (d *daemon) watchTermination(pod, container string, removed time.Time, check func([]v1.Event)) termination {
	d.t.Helper()
	w := termination{podNotReady: -1, containerNotReady: -1}
	seen := ""
	deadline := removed.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p, err := d.pod("default", pod)
		if err != nil {
			if !strings.Contains(err.Error(), "not found") {
				d.t.Fatalf("pod %s: %v", pod, err)
			}
			return w
		}
		now := time.Since(removed)
		w.lastSeen = now
		cs := containerStatus(p, container)
		csReady := cs != nil && cs.Ready
		if state := fmt.Sprintf("pod Ready %v, %s ready %v, phase %s", isReady(p), container, csReady, p.Status.Phase); state != seen {
			d.t.Logf("%v after the removal: %s", now.Round(time.Millisecond), state)
			seen = state
		}
		if !isReady(p) && w.podNotReady < 0 {
			w.podNotReady = now
		}
		if w.podNotReady >= 0 && isReady(p) {
			d.t.Fatalf("the terminating pod became Ready again %v after its removal", now)
		}
		if !csReady && w.containerNotReady < 0 {
			w.containerNotReady = now
		}
		if check != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			evs, err := d.Client.PodEvents(ctx, "default", pod)
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
	return w
}
