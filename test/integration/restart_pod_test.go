package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestRestartPod: `minilet restart pod` stops and starts every container
// in the same sandbox (same UID, IP, pause process), the init container
// first, restartCount + 1 and lastState reason Restarted; a crash-looping
// container restarts at once; events and the restart metric say why.
func TestRestartPod(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("web.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 5
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: prepare
    image: %[1]s
    command: ["sh", "-c", "date +%%s%%N >> /work/runs"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "trap 'echo bye >> /work/stops; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: work, mountPath: /work}]
`, BusyboxImage))
	before := d.waitPod("web", 60*time.Second, "runs", allRunning)
	pauseBefore, pidsBefore := d.pids(before)

	if out := d.cli("restart", "pod", "web"); strings.TrimSpace(out) != "pod/web restarted" {
		t.Fatalf("restart: %q", out)
	}
	after := d.waitPod("web", 60*time.Second, "restarted", func(p *v1.Pod) error {
		if err := allRunning(p); err != nil {
			return err
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 1 {
			return fmt.Errorf("restartCount %d", cs.RestartCount)
		}
		return nil
	})
	app := after.Status.ContainerStatuses[0]
	last := app.LastTerminationState.Terminated
	if last == nil || last.Reason != "Restarted" || last.ExitCode != 0 {
		t.Fatalf("app lastState %+v, want reason Restarted, exit code 0 (it stopped on SIGTERM)", app.LastTerminationState)
	}
	if after.UID != before.UID || after.Status.PodIP != before.Status.PodIP {
		t.Fatalf("UID %s → %s, IP %s → %s: the pod must stay the same", before.UID, after.UID, before.Status.PodIP, after.Status.PodIP)
	}
	pauseAfter, pidsAfter := d.pids(after)
	if pauseAfter != pauseBefore {
		t.Fatalf("pause pid %d → %d: the sandbox must be kept", pauseBefore, pauseAfter)
	}
	if pidsAfter["app"] == pidsBefore["app"] {
		t.Fatalf("app pid %d unchanged", pidsAfter["app"])
	}
	if ic := after.Status.InitContainerStatuses[0]; ic.RestartCount != 1 || ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 {
		t.Fatalf("init container %+v, want a second run that completed", ic)
	}
	runs, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/work/runs", pidsAfter["app"]))
	if err != nil || len(strings.Fields(string(runs))) != 2 {
		t.Fatalf("init runs %q (%v), want 2", runs, err)
	}
	stops, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/work/stops", pidsAfter["app"]))
	if strings.TrimSpace(string(stops)) != "bye" {
		t.Fatalf("stops %q: the app must get SIGTERM once", stops)
	}
	var sawRestarting bool
	for _, e := range d.events("web") {
		if e.Reason == "Restarting" {
			sawRestarting = true
		}
	}
	if !sawRestarting {
		t.Fatalf("no Restarting event: %v", d.events("web"))
	}
	if m := d.metrics(); !strings.Contains(m, `minilet_container_restarts_total{container="app",namespace="default",pod="web",reason="Restarted"} 1`) {
		t.Fatalf("restart metric missing:\n%s", grepLines(m, "restarts_total"))
	}

	// A finished pod is not run again.
	d.writeManifest("once.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers: [{name: app, image: %s, command: ["true"]}]
`, BusyboxImage))
	d.waitPod("once", 60*time.Second, "succeeded", func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodSucceeded {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		return nil
	})
	if out, err := d.cliErr("restart", "pod/once"); err == nil || !strings.Contains(out, "has finished (phase Succeeded)") {
		t.Fatalf("restart a finished pod: %v, %q", err, out)
	}
	if out, err := d.cliErr("restart", "pod", "nope"); err == nil || !strings.Contains(out, `pods "nope" not found`) {
		t.Fatalf("restart a missing pod: %v, %q", err, out)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
