package integration

// Twins of the kubelet's restart e2e cases: runtime.go "should run with
// the expected status" and container_restart_backoff.go.

import (
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// runtime.go "should run with the expected status": the container exits 1
// on its first run and 0 on its second, then runs forever; a file in an
// emptyDir counts the runs. Per restartPolicy:
//
//	Always    → 2 restarts, Running, Ready, state running
//	OnFailure → 1 restart, Succeeded, not Ready, state terminated
//	Never     → 0 restarts, Failed, not Ready, state terminated
//
// and the outcome then holds.
func TestE2ERuntimeExpectedStatus(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	cases := []struct {
		name     string
		policy   v1.RestartPolicy
		restarts int32
		phase    v1.PodPhase
		ready    bool
		running  bool
	}{
		{"terminate-cmd-rpa", v1.RestartPolicyAlways, 2, v1.PodRunning, true, true},
		{"terminate-cmd-rpof", v1.RestartPolicyOnFailure, 1, v1.PodSucceeded, false, false},
		{"terminate-cmd-rpn", v1.RestartPolicyNever, 0, v1.PodFailed, false, false},
	}
	const script = `f=/restart-count/restartCount; echo hello >> $f; count=$(wc -l < $f); ` +
		`if [ $count -eq 1 ]; then exit 1; fi; if [ $count -eq 2 ]; then exit 0; fi; while true; do sleep 1; done`
	for _, c := range cases {
		d.writeManifest(c.name+".yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 1
  volumes: [{name: restart-count, emptyDir: {}}]
  containers:
  - name: %s
    image: %s
    command: ["sh", "-c", %q]
    volumeMounts: [{name: restart-count, mountPath: /restart-count}]
`, c.name, c.policy, c.name, BusyboxImage, script))
	}
	for _, c := range cases {
		check := func(p *v1.Pod) error {
			cs := containerStatus(p, c.name)
			if cs == nil {
				return fmt.Errorf("no container status")
			}
			if cs.RestartCount != c.restarts {
				return fmt.Errorf("restartCount %d, want %d", cs.RestartCount, c.restarts)
			}
			if p.Status.Phase != c.phase {
				return fmt.Errorf("phase %s, want %s", p.Status.Phase, c.phase)
			}
			if isReady(p) != c.ready {
				return fmt.Errorf("Ready %v, want %v", isReady(p), c.ready)
			}
			if c.running && cs.State.Running == nil {
				return fmt.Errorf("state %+v, want running", cs.State)
			}
			if !c.running && cs.State.Terminated == nil {
				return fmt.Errorf("state %+v, want terminated", cs.State)
			}
			return nil
		}
		d.waitPod(c.name, 60*time.Second, "reaches its expected status", check)
	}
	// The outcome holds: no third run under Always, no restart of a
	// container that completed under OnFailure.
	for start := time.Now(); time.Since(start) < 4*time.Second; time.Sleep(200 * time.Millisecond) {
		for _, c := range cases {
			p, err := d.pod("default", c.name)
			if err != nil {
				t.Fatal(err)
			}
			if rc := restartsOf(p, c.name); rc != c.restarts || p.Status.Phase != c.phase {
				t.Fatalf("%s: restartCount %d and phase %s later, want %d and %s", c.name, rc, p.Status.Phase, c.restarts, c.phase)
			}
		}
	}
	p, _ := d.pod("default", "terminate-cmd-rpn")
	if term := containerStatus(p, "terminate-cmd-rpn").State.Terminated; term.ExitCode != 1 || term.Reason != "Error" {
		t.Errorf("Never: terminated %+v, want exit code 1, reason Error", term)
	}
	p, _ = d.pod("default", "terminate-cmd-rpof")
	if term := containerStatus(p, "terminate-cmd-rpof").State.Terminated; term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("OnFailure: terminated %+v, want exit code 0, reason Completed", term)
	}
}

// container_restart_backoff.go: the command `false` under restartPolicy
// Always is restarted at once, then after the back-off table's delays
// (10 s doubling), capped by --crash-loop-backoff-max (20 s here): gaps
// of 0, 10, 20, 20 s between one run's end and the next one's start.
func TestE2ERestartBackoffTable(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--crash-loop-backoff-max", "20s")
	d.start()
	d.writeManifest("backoff.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: backoff}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["false"]
`, BusyboxImage))
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 20 * time.Second}

	// Each run is seen whole as lastState while the container waits in
	// CrashLoopBackOff (for run 0, whose wait is 0, it may not be);
	// statuses are in whole seconds.
	type run struct{ started, finished time.Time }
	runs := map[int32]run{}
	sawBackOff := false
	d.eventually(120*time.Second, "runs 1 to 4 have ended", func() error {
		p, err := d.pod("default", "backoff")
		if err != nil {
			return err
		}
		cs := containerStatus(p, "app")
		if cs == nil {
			return fmt.Errorf("no status")
		}
		if last := cs.LastTerminationState.Terminated; last != nil {
			idx := cs.RestartCount - 1 // the previous run of the current one
			if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				idx = cs.RestartCount // the run that just ended
				sawBackOff = true
			}
			if last.ExitCode != 1 {
				t.Errorf("run %d exited %d, want 1", idx, last.ExitCode)
			}
			runs[idx] = run{last.StartedAt.Time, last.FinishedAt.Time}
		}
		if term := cs.State.Terminated; term != nil {
			runs[cs.RestartCount] = run{term.StartedAt.Time, term.FinishedAt.Time}
		}
		for i := int32(1); i <= 4; i++ {
			if _, ok := runs[i]; !ok {
				return fmt.Errorf("run %d not seen yet (restartCount %d, state %+v)", i, cs.RestartCount, cs.State)
			}
		}
		return nil
	})
	if !sawBackOff {
		t.Error("the container was never seen waiting in CrashLoopBackOff")
	}
	// Run 0 started when the first Started event was recorded.
	if _, ok := runs[0]; !ok {
		started := d.waitEvent("backoff", "Started", "", time.Second)
		runs[0] = run{started.FirstTimestamp.Time, started.FirstTimestamp.Time}
	}
	idx := make([]int, 0, len(runs))
	for i := range runs {
		idx = append(idx, int(i))
	}
	sort.Ints(idx)
	for _, i := range idx {
		t.Logf("run %d: started %s, finished %s", i, runs[int32(i)].started.Format(time.TimeOnly), runs[int32(i)].finished.Format(time.TimeOnly))
	}
	const tolerance = 2 * time.Second // whole-second timestamps and scheduling
	for i, w := range want {
		gap := runs[int32(i+1)].started.Sub(runs[int32(i)].finished)
		t.Logf("gap before restart %d: %v (want %v)", i+1, gap, w)
		if gap < w-tolerance || gap > w+tolerance {
			t.Errorf("restart %d came %v after the previous run ended, want %v ± %v", i+1, gap, w, tolerance)
		}
	}
}
