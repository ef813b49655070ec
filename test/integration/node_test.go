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
	d.waitPod("misfit", 20*time.Second, "is rejected", func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodFailed || p.Status.Reason != "NodeAffinity" {
			return fmt.Errorf("phase %s reason %q", p.Status.Phase, p.Status.Reason)
		}
		return nil
	})
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
