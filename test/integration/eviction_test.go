package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestEviction: the node's filesystem (minilet's --root-dir, a 64 MiB
// tmpfs of the test's own) runs low because a Job's pod fills an
// emptyDir. minilet reports DiskPressure, tries image GC first, then
// evicts the Job's pod as the kubelet does (Failed, Evicted, the
// kubelet's message, DisruptionTarget, an Evicted event), removes its
// volume, and the Job makes another pod; the pod from a manifest file
// (a static pod, critical) keeps running untouched.
func TestEviction(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	if err := os.MkdirAll(d.RootDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", d.RootDir, "tmpfs", 0, "size=64m,mode=0700"); err != nil {
		t.Fatal(err)
	}
	// The image filesystem is this machine's disk: its thresholds off, so
	// that only the test's tmpfs can cause pressure.
	d.start("--eviction-hard=nodefs.available<24Mi,imagefs.available<0,imagefs.inodesFree<0",
		"--eviction-pressure-transition-period=3s", "--eviction-monitoring-interval=500ms")

	d.writeManifest("keeper.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "dd if=/dev/zero of=/data/some bs=1M count=4; sleep 1000000"]
    volumeMounts: [{name: data, mountPath: /data}]
`, BusyboxImage))
	keeper := d.waitPod("keeper", 60*time.Second, "runs", allRunning)

	d.writeManifest("filler.yaml", fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: filler}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 30
      volumes: [{name: data, emptyDir: {}}]
      containers:
      - name: fill
        image: %s
        command: ["sh", "-c", "dd if=/dev/zero of=/data/fill bs=1M count=40; echo filled; sleep 1000000"]
        volumeMounts: [{name: data, mountPath: /data}]
`, BusyboxImage))

	var evicted v1.Pod
	d.eventually(120*time.Second, "a pod of the Job is evicted", func() error {
		pods, err := d.podsOwnedBy("Job", "filler")
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.Status.Phase == v1.PodFailed && p.Status.Reason == "Evicted" &&
				strings.HasPrefix(p.Status.Message, "The node was low on resource: ephemeral-storage. ") {
				evicted = p
				return nil
			}
		}
		return fmt.Errorf("pods: %s", summarize(pods))
	})
	msg := evicted.Status.Message
	if !strings.Contains(msg, "Threshold quantity: 24Mi, available: ") || !strings.Contains(msg, "Container fill was using ") ||
		!strings.Contains(msg, "request is 0, has larger consumption of ephemeral-storage. ") {
		t.Errorf("message %q is not the kubelet's", msg)
	}
	var dt *v1.PodCondition
	for i := range evicted.Status.Conditions {
		if evicted.Status.Conditions[i].Type == v1.DisruptionTarget {
			dt = &evicted.Status.Conditions[i]
		}
	}
	if dt == nil || dt.Status != v1.ConditionTrue || dt.Reason != "TerminationByKubelet" {
		t.Errorf("DisruptionTarget condition %+v", dt)
	}
	ev := d.waitEvent(evicted.Name, "Evicted", "The node was low on resource: ephemeral-storage.", 10*time.Second)
	if ev.Type != v1.EventTypeWarning || ev.Annotations["starved_resource"] != "ephemeral-storage" || ev.Annotations["offending_containers"] != "fill" {
		t.Errorf("Evicted event %s %v", ev.Type, ev.Annotations)
	}
	// Its containers stopped with the hard eviction's grace (1 s, not the
	// pod's 30), and its emptyDir is gone.
	d.eventually(30*time.Second, "the evicted pod's containers stop and its volume goes", func() error {
		p, err := d.pod("default", evicted.Name)
		if err != nil {
			return err
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Terminated == nil {
				return fmt.Errorf("container %s not terminated: %+v", cs.Name, cs.State)
			}
		}
		dir := filepath.Join(d.RootDir, "pods", string(evicted.UID), "volumes", "data")
		if _, err := os.Stat(dir); err == nil {
			return fmt.Errorf("%s is still there", dir)
		}
		return nil
	})
	// The Job made another pod for the evicted one.
	d.eventually(60*time.Second, "the Job replaces the evicted pod", func() error {
		pods, err := d.podsOwnedBy("Job", "filler")
		if err != nil {
			return err
		}
		if len(pods) < 2 {
			return fmt.Errorf("pods: %s", summarize(pods))
		}
		return nil
	})
	if out := d.cli("describe", "node"); !strings.Contains(out, "EvictionThresholdMet") || !strings.Contains(out, "Attempting to reclaim ephemeral-storage") {
		t.Errorf("describe node shows no EvictionThresholdMet event:\n%s", out)
	}
	if m := d.metrics(); !strings.Contains(m, `minilet_evictions_total{eviction_signal="nodefs.available"}`) {
		t.Errorf("no eviction counted in the metrics")
	}
	// The static pod ran on throughout, though it used the disk too.
	now, err := d.pod("default", "keeper")
	if err != nil || allRunning(now) != nil {
		t.Fatalf("the static pod is not running: %v", err)
	}
	if a, b := now.Status.ContainerStatuses[0], keeper.Status.ContainerStatuses[0]; a.ContainerID != b.ContainerID || a.RestartCount != 0 {
		t.Errorf("the static pod's container changed: %s (restarts %d), was %s", a.ContainerID, a.RestartCount, b.ContainerID)
	}
}
