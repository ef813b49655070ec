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

// TestNoExecuteTaint: `minilet taint node maint=yes:NoExecute` evicts the
// running pods of workload controllers that do not tolerate it, as the
// taint eviction controller: a Job's pod is Failed with the controller's
// DisruptionTarget condition, a Deployment's pod is replaced by one that
// waits for the taint to go; a pod tolerating it for 2 s goes after
// them; a static pod (from a file) and a pod tolerating it for good run on.
func TestNoExecuteTaint(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("static.yaml", sleeperPod("static", ""))
	d.writeManifest("job.yaml", jobManifest("batch", "  backoffLimit: 0", "sleep 3600"))
	deploy := func(name, tolerations string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 1
%[3]s      containers:
      - name: main
        image: %[2]s
        command: ["sleep", "3600"]
`, name, BusyboxImage, tolerations)
	}
	d.writeManifest("web.yaml", deploy("web", ""))
	d.writeManifest("brief.yaml", deploy("brief", "      tolerations: [{key: maint, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]\n"))
	d.writeManifest("steady.yaml", deploy("steady", "      tolerations: [{key: maint, operator: Exists, effect: NoExecute}]\n"))
	static := d.waitPod("static", 60*time.Second, "runs", allRunning)
	running := map[string]v1.Pod{}
	d.eventually(90*time.Second, "every workload's pod runs", func() error {
		for _, w := range []struct{ kind, name string }{{"Job", "batch"}, {"ReplicaSet", "web-"}, {"ReplicaSet", "brief-"}, {"ReplicaSet", "steady-"}} {
			pods, err := d.podsOwnedBy(w.kind, w.name)
			if err != nil {
				return err
			}
			if len(pods) != 1 || allRunning(&pods[0]) != nil {
				return fmt.Errorf("%s %s: %s", w.kind, w.name, summarize(pods))
			}
			running[strings.TrimSuffix(w.name, "-")] = pods[0]
		}
		return nil
	})

	if out := d.cli("taint", "node", "maint=yes:NoExecute"); strings.TrimSpace(out) != "node/testnode tainted" {
		t.Fatalf("taint: %q", out)
	}
	d.eventually(60*time.Second, "the Job's pod is evicted by the taint", func() error {
		p, err := d.pod("default", running["batch"].Name)
		if err != nil {
			return err
		}
		if p.Status.Phase != v1.PodFailed || p.Status.Reason != "DeletionByTaintManager" {
			return fmt.Errorf("phase %s reason %q", p.Status.Phase, p.Status.Reason)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == v1.DisruptionTarget && c.Status == v1.ConditionTrue && c.Reason == "DeletionByTaintManager" &&
				c.Message == "Taint manager: deleting due to NoExecute taint" {
				return nil
			}
		}
		return fmt.Errorf("no DisruptionTarget condition: %+v", p.Status.Conditions)
	})
	d.waitEvent(running["batch"].Name, "TaintManagerEviction", "Marking for deletion Pod default/"+running["batch"].Name, 10*time.Second)
	gone := func(name string) func() error {
		return func() error {
			pods, err := d.podsOwnedBy("ReplicaSet", name+"-")
			if err != nil {
				return err
			}
			for _, p := range pods {
				if p.UID == running[name].UID && p.Status.Phase != v1.PodFailed {
					return fmt.Errorf("the first pod is still %s", p.Status.Phase)
				}
			}
			for _, p := range pods {
				if p.UID != running[name].UID {
					if err := waitsWith("0/1 nodes are available: 1 node(s) had untolerated taint {maint: yes}.")(&p); err != nil && name == "web" {
						return fmt.Errorf("replacement %s: %v", p.Name, err)
					}
					return nil
				}
			}
			return fmt.Errorf("no replacement yet: %s", summarize(pods))
		}
	}
	d.eventually(60*time.Second, "the Deployment's pod is replaced by one that waits for the taint to go", gone("web"))
	d.eventually(60*time.Second, "the pod tolerating the taint for 2 s goes too", gone("brief"))

	for _, name := range []string{"steady"} {
		p, err := d.pod("default", running[name].Name)
		if err != nil || allRunning(p) != nil {
			t.Errorf("%s, tolerating the taint for good, is not running: %v", name, err)
		}
	}
	if p, err := d.pod("default", "static"); err != nil || allRunning(p) != nil ||
		p.Status.ContainerStatuses[0].ContainerID != static.Status.ContainerStatuses[0].ContainerID {
		t.Errorf("the static pod did not run on untouched: %v", err)
	}
	d.cli("taint", "node", "maint-")
	d.eventually(60*time.Second, "the Deployment runs again once the taint is gone", func() error {
		pods, err := d.podsOwnedBy("ReplicaSet", "web-")
		if err != nil {
			return err
		}
		for _, p := range pods {
			if allRunning(&p) == nil {
				return nil
			}
		}
		return fmt.Errorf("pods: %s", summarize(pods))
	})
}
