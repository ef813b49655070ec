package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestNodeCordonDrainAndAdmission: the node view, nodeSelector admission,
// cordon (new pods wait, running ones stay, the state survives a daemon
// restart), drain (every pod stopped) and uncordon (they come back).
func TestNodeCordonDrainAndAdmission(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--node-labels", "disk=ssd,zone=a")
	d.start()

	var n v1.Node
	if err := json.Unmarshal([]byte(d.cli("node", "-o", "json")), &n); err != nil {
		t.Fatal(err)
	}
	if n.Labels["disk"] != "ssd" || n.Labels["kubernetes.io/hostname"] != "testnode" || n.Status.Capacity.Cpu().IsZero() {
		t.Fatalf("node view: labels %v capacity %v", n.Labels, n.Status.Capacity)
	}

	d.writeManifest("fits.yaml", sleeperPod("fits", "  nodeSelector: {disk: ssd}\n"))
	d.writeManifest("misfit.yaml", sleeperPod("misfit", "  nodeSelector: {disk: hdd}\n"))
	fits := d.waitPod("fits", 60*time.Second, "runs", allRunning)
	d.waitPod("misfit", 20*time.Second, "waits for a node that fits", waitsWith("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."))
	fitsPause, _ := d.pids(fits)

	if out := d.cli("cordon"); !strings.Contains(out, "cordoned") {
		t.Errorf("cordon: %q", out)
	}
	d.writeManifest("late.yaml", sleeperPod("late", ""))
	d.waitPod("late", 20*time.Second, "waits, unschedulable", unschedulable)
	// The cordon outlives a daemon restart; the running pod is untouched.
	d.signal(syscall.SIGKILL)
	d.start()
	d.waitPod("late", 20*time.Second, "still waits after a restart of the cordoned daemon", unschedulable)
	if pause, _ := d.pids(fits); pause != fitsPause {
		t.Fatal("cordon restarted a running pod")
	}

	d.cli("uncordon")
	d.waitPod("late", 60*time.Second, "runs once uncordoned", allRunning)

	if out := d.cli("drain", "--grace-period", "0"); !strings.Contains(out, "drained") {
		t.Errorf("drain: %q", out)
	}
	for _, name := range []string{"fits", "late"} {
		p, err := d.pod("default", name)
		if err != nil || p.Status.Phase != v1.PodPending || len(p.Status.ContainerStatuses) != 0 && p.Status.ContainerStatuses[0].State.Running != nil {
			t.Errorf("after drain, %s: %v %+v", name, err, p)
		}
	}
	if processAlive(fitsPause) {
		t.Error("drain left the pod running")
	}
	d.cli("uncordon")
	d.waitPod("fits", 60*time.Second, "runs again after uncordon", allRunning)
	d.waitPod("late", 60*time.Second, "runs again after uncordon", allRunning)
}

// unschedulable is a waitPod condition: the pod waits for an uncordon.
func unschedulable(p *v1.Pod) error {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == "Unschedulable" && p.Status.Phase == v1.PodPending {
			return nil
		}
	}
	return fmt.Errorf("phase %s conditions %+v", p.Status.Phase, p.Status.Conditions)
}

// waitsWith is a waitPod condition: the pod waits, Pending, Unschedulable
// with the scheduler's message msg.
func waitsWith(msg string) func(p *v1.Pod) error {
	return func(p *v1.Pod) error {
		if err := unschedulable(p); err != nil {
			return err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Message != msg {
				return fmt.Errorf("message %q, want %q", c.Message, msg)
			}
		}
		return nil
	}
}

// TestNodeLabelsAndTaints: the seed's GPU placement. A pod selecting
// gpu=true waits until `minilet label node gpu=true`, then starts; a
// NoSchedule taint keeps out new pods that do not tolerate it (a pod that
// does starts) until it is removed; labels and taints outlive a SIGKILL
// of the daemon, and running pods are untouched throughout.
func TestNodeLabelsAndTaints(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--node-labels", "disk=ssd")
	d.start()
	d.writeManifest("gpu.yaml", sleeperPod("trainer", "  nodeSelector: {gpu: \"true\"}\n"))
	d.waitPod("trainer", 20*time.Second, "waits for a GPU node", waitsWith("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."))
	if out := d.cli("label", "node", "gpu=true"); strings.TrimSpace(out) != "node/testnode labeled" {
		t.Fatalf("label: %q", out)
	}
	trainer := d.waitPod("trainer", 60*time.Second, "runs once the node is labelled", allRunning)
	trainerPause, _ := d.pids(trainer)

	if out, err := d.cliErr("label", "node", "gpu=false"); err == nil || !strings.Contains(out, "'gpu' already has a value (true), and --overwrite is false") {
		t.Fatalf("relabel without --overwrite: %v %q", err, out)
	}
	if out, err := d.cliErr("label", "node", "kubernetes.io/hostname=x", "--overwrite"); err == nil || !strings.Contains(out, "minilet sets this label itself") {
		t.Fatalf("label a built-in: %v %q", err, out)
	}
	d.cli("label", "node", "testnode", "disk-")

	if out := d.cli("taint", "node", "dedicated=ml:NoSchedule"); strings.TrimSpace(out) != "node/testnode tainted" {
		t.Fatalf("taint: %q", out)
	}
	d.writeManifest("web.yaml", sleeperPod("web", ""))
	d.writeManifest("ml.yaml", sleeperPod("ml", "  tolerations: [{key: dedicated, operator: Equal, value: ml, effect: NoSchedule}]\n"))
	d.waitPod("web", 20*time.Second, "waits, untolerated taint", waitsWith("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}."))
	d.waitPod("ml", 60*time.Second, "tolerates the taint and runs", allRunning)

	// Kept across a SIGKILL of the daemon.
	d.signal(syscall.SIGKILL)
	d.start()
	var n v1.Node
	if err := json.Unmarshal([]byte(d.cli("node", "-o", "json")), &n); err != nil {
		t.Fatal(err)
	}
	if n.Labels["gpu"] != "true" || n.Labels["disk"] != "" || !hasTaint(n, "dedicated", "ml", v1.TaintEffectNoSchedule) {
		t.Fatalf("after a restart: labels %v taints %v", n.Labels, n.Spec.Taints)
	}
	d.waitPod("web", 20*time.Second, "still waits after a restart", waitsWith("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}."))

	if out := d.cli("taint", "node", "dedicated-"); strings.TrimSpace(out) != "node/testnode untainted" {
		t.Fatalf("untaint: %q", out)
	}
	d.waitPod("web", 60*time.Second, "runs once the taint is gone", allRunning)
	if pause, _ := d.pids(trainer); pause != trainerPause {
		t.Fatal("labels and taints restarted a running pod")
	}
}

func hasTaint(n v1.Node, key, value string, effect v1.TaintEffect) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Value == value && t.Effect == effect {
			return true
		}
	}
	return false
}
