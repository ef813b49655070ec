package integration

// Twins of the kubelet's probe e2e cases (kubernetes
// test/e2e/common/node/container_probe.go; the numbers are those of the
// table in /work/shared/reference/kubelet-facts.md §8), time-compressed.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Case 1: "with readiness probe should not be ready before initial delay
// and never restart". The pod becomes Ready, not before StartedAt +
// initialDelaySeconds, and never restarts.
func TestE2EProbe01ReadinessNotReadyBeforeInitialDelay(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		const delay = 3
		d.writeManifest("web.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: test-webserver
    image: %[2]s
    args: ["webserver"]
    readinessProbe:
      httpGet: {path: /, port: 80}
      initialDelaySeconds: 3
      periodSeconds: 1
`))
		p := d.waitPod("web", 60*time.Second, "is Ready", func(p *v1.Pod) error {
			if !isReady(p) {
				return fmt.Errorf("not ready: %+v", p.Status.Conditions)
			}
			return nil
		})
		cs := containerStatus(p, "test-webserver")
		if cs == nil || cs.State.Running == nil {
			t.Fatalf("container not running: %+v", cs)
		}
		if !cs.Ready {
			t.Fatalf("the pod is Ready, its container is not: %+v", cs)
		}
		// The pod became ready when its only container did.
		readyAt := podCondition(p, v1.PodReady).LastTransitionTime.Time
		startedAt := cs.State.Running.StartedAt.Time
		t.Logf("container started at %v, pod ready at %v (%v later)", startedAt, readyAt, readyAt.Sub(startedAt))
		if readyAt.Sub(startedAt) < delay*time.Second {
			t.Errorf("the pod became Ready %v after its container started, before initialDelaySeconds %d", readyAt.Sub(startedAt), delay)
		}
		if cs.RestartCount != 0 {
			t.Errorf("restartCount %d, want 0", cs.RestartCount)
		}
	})
}

// Case 2: "with readiness probe that fails should never be ready and never
// restart".
func TestE2EProbe02FailingReadinessNeverReady(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("web.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: test-webserver
    image: %[2]s
    args: ["webserver"]
    readinessProbe:
      httpGet: {path: /, port: 81}
      initialDelaySeconds: 1
      periodSeconds: 1
`))
		d.waitPod("web", 60*time.Second, "runs", allRunning)
		// The probe does run (and fail), so the window below means something.
		d.waitEvent("web", "Unhealthy", "Readiness probe failed", 20*time.Second)
		d.neverReady("web", "test-webserver", 6*time.Second)
	})
}

// Case 3: "should be restarted with an exec "cat /tmp/health" liveness
// probe".
func TestE2EProbe03ExecLivenessRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("exec.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-exec}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "echo ok >/tmp/health; sleep 2; rm -rf /tmp/health; sleep 600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/health"]}
      initialDelaySeconds: 3
      timeoutSeconds: 5
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-exec", "busybox", 1, 30*time.Second)
		d.waitEvent("liveness-exec", "Killing", "failed liveness probe", 10*time.Second)
	})
}

// Case 4: "should *not* be restarted with an exec "cat /tmp/health"
// liveness probe".
func TestE2EProbe04ExecLivenessNoRestart(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("exec.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-exec}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "echo ok >/tmp/health; sleep 600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/health"]}
      initialDelaySeconds: 2
      timeoutSeconds: 5
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-exec", "busybox", 0, 8*time.Second)
		if n := d.probeCount("liveness-exec", "busybox", "Liveness", "successful"); n < 4 {
			t.Errorf("%d successful liveness probes in 8 s with periodSeconds 1: the probe does not run", n)
		}
	})
}

// Case 5: "should be restarted with a /healthz http liveness probe".
func TestE2EProbe05HTTPLivenessRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("liveness.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["liveness", "--healthy-for", "3"]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-http", "agnhost", 1, 30*time.Second)
		d.waitEvent("liveness-http", "Unhealthy", "HTTP probe failed with statuscode: 500", 10*time.Second)
	})
}

// Case 6: "should *not* be restarted with a tcp:8080 liveness probe"; the
// window runs past the time /healthz turns 500, which a TCP probe must not
// look at.
func TestE2EProbe06TCPLivenessNoRestart(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("liveness.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-tcp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["liveness", "--healthy-for", "3"]
    livenessProbe:
      tcpSocket: {port: 8080}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-tcp", "agnhost", 0, 8*time.Second)
		if n := d.probeCount("liveness-tcp", "agnhost", "Liveness", "successful"); n < 4 {
			t.Errorf("%d successful liveness probes in 8 s with periodSeconds 1: the probe does not run", n)
		}
	})
}

// Case 7: "should have monotonically increasing restart count": at least 5
// restarts, the count never going down (the daemon's back-off cap is 2 s).
func TestE2EProbe07MonotonicRestartCount(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("liveness.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["liveness", "--healthy-for", "2"]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-http", "agnhost", 5, 120*time.Second)
	})
}

// Case 8: "should *not* be restarted with a /healthz http liveness probe"
// (test-webserver, path /).
func TestE2EProbe08HTTPLivenessNoRestart(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("web.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: test-webserver
    image: %[2]s
    args: ["webserver"]
    livenessProbe:
      httpGet: {path: /, port: 80}
      initialDelaySeconds: 2
      timeoutSeconds: 5
      periodSeconds: 1
      failureThreshold: 5
`))
		d.livenessTest("web", "test-webserver", 0, 8*time.Second)
		if n := d.probeCount("web", "test-webserver", "Liveness", "successful"); n < 4 {
			t.Errorf("%d successful liveness probes in 8 s with periodSeconds 1: the probe does not run", n)
		}
	})
}

// Case 9: "should be restarted with an exec liveness probe with timeout".
func TestE2EProbe09ExecLivenessTimeoutRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("exec.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-exec}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sleep", "600"]
    livenessProbe:
      exec: {command: ["sh", "-c", "sleep 10"]}
      initialDelaySeconds: 2
      timeoutSeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-exec", "busybox", 1, 30*time.Second)
		d.waitEvent("liveness-exec", "Unhealthy", "timed out", 10*time.Second)
	})
}

// Case 10: "should not be ready with an exec readiness probe timeout".
func TestE2EProbe10ExecReadinessTimeoutNeverReady(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("exec.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: readiness-exec}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sleep", "600"]
    readinessProbe:
      exec: {command: ["sh", "-c", "sleep 10"]}
      initialDelaySeconds: 1
      timeoutSeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
		d.waitPod("readiness-exec", 60*time.Second, "runs", allRunning)
		d.waitEvent("readiness-exec", "Unhealthy", "timed out", 20*time.Second)
		d.neverReady("readiness-exec", "busybox", 6*time.Second)
	})
}

// Case 11: "should be restarted with a failing exec liveness probe that
// took longer than the timeout": the probe command fails at once but
// leaves a child holding its output.
func TestE2EProbe11FailingExecOutlivingTimeoutRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("exec.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-exec}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sleep", "600"]
    livenessProbe:
      exec: {command: ["sh", "-c", "sleep 10 & exit 1"]}
      initialDelaySeconds: 1
      timeoutSeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-exec", "busybox", 1, 20*time.Second)
	})
}

// Case 12: "should be restarted with a local redirect http liveness
// probe": the redirect to /healthz on the same host is followed, so the
// probe fails once /healthz does.
func TestE2EProbe12LocalRedirectFollowed(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("liveness.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["liveness", "--healthy-for", "3"]
    livenessProbe:
      httpGet: {path: "/redirect?loc=%%2Fhealthz", port: 8080}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-http", "agnhost", 1, 30*time.Second)
		if e := findEvent(d.events("liveness-http"), "ProbeWarning", ""); e != nil {
			t.Errorf("a same-host redirect gave a ProbeWarning (it must be followed): %s", e.Message)
		}
	})
}

// Case 13: "should *not* be restarted with a non-local redirect http
// liveness probe": the redirect to another host is not followed, counts as
// success, and is recorded as a ProbeWarning with the response body.
func TestE2EProbe13NonLocalRedirectWarns(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("liveness.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: liveness-http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["liveness", "--healthy-for", "3"]
    livenessProbe:
      httpGet: {path: "/redirect?loc=http%%3A%%2F%%2F0.0.0.0%%2F", port: 8080}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("liveness-http", "agnhost", 0, 8*time.Second)
		const want = `Probe terminated redirects, Response body: <a href="http://0.0.0.0/">Found</a>.`
		e := d.waitEvent("liveness-http", "ProbeWarning", want, 5*time.Second)
		if e.Type != v1.EventTypeWarning {
			t.Errorf("ProbeWarning event of type %s, want Warning", e.Type)
		}
	})
}

// Case 14: "should be restarted startup probe fails".
func TestE2EProbe14StartupFailureRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("startup.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sleep", "600"]
    livenessProbe:
      exec: {command: ["/bin/true"]}
      periodSeconds: 1
      failureThreshold: 1
    startupProbe:
      exec: {command: ["/bin/false"]}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 3
`))
		d.livenessTest("startup", "busybox", 1, 30*time.Second)
		d.waitEvent("startup", "Killing", "failed startup probe", 10*time.Second)
	})
}

// Case 15: "should *not* be restarted by liveness probe because startup
// probe delays it": a failing liveness probe never runs while the startup
// probe (failureThreshold 60) has not succeeded.
func TestE2EProbe15StartupDelaysLiveness(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("startup.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sleep", "600"]
    livenessProbe:
      exec: {command: ["/bin/false"]}
      periodSeconds: 1
      failureThreshold: 1
    startupProbe:
      exec: {command: ["/bin/false"]}
      periodSeconds: 1
      failureThreshold: 60
`))
		d.livenessTest("startup", "busybox", 0, 10*time.Second)
		if n := d.probeCount("startup", "busybox", "Startup", "failed"); n < 5 {
			t.Errorf("%d failed startup probes in 10 s with periodSeconds 1: the startup probe does not run", n)
		}
		if n := d.probeCount("startup", "busybox", "Liveness", "failed") + d.probeCount("startup", "busybox", "Liveness", "successful"); n != 0 {
			t.Errorf("the liveness probe ran %d times before the startup probe succeeded", n)
		}
		p, _ := d.pod("default", "startup")
		if cs := containerStatus(p, "busybox"); cs == nil || cs.Started == nil || *cs.Started {
			t.Errorf("the container is started before its startup probe succeeded: %+v", cs)
		}
		if k.sidecar {
			// App containers wait for the sidecar to have started.
			main := containerStatus(p, "main")
			if c := podCondition(p, v1.PodInitialized); (main != nil && main.State.Running != nil) || c == nil || c.Status != v1.ConditionFalse {
				t.Errorf("while the sidecar's startup probe fails, the app container is %+v and the pod's Initialized condition %+v", main, c)
			}
		}
	})
}

// Case 16: "should be restarted by liveness probe after startup probe
// enables it": the failing liveness probe kills the container only after
// the startup probe succeeded (3 s into its life).
func TestE2EProbe16LivenessAfterStartup(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("startup.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "sleep 3; touch /tmp/startup; sleep 600"]
    livenessProbe:
      exec: {command: ["/bin/false"]}
      periodSeconds: 1
      failureThreshold: 1
    startupProbe:
      exec: {command: ["cat", "/tmp/startup"]}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 60
`))
		d.livenessTest("startup", "busybox", 1, 30*time.Second)
		p := d.waitPod("startup", 10*time.Second, "records the killed container", func(p *v1.Pod) error {
			if cs := containerStatus(p, "busybox"); cs == nil || cs.LastTerminationState.Terminated == nil {
				return fmt.Errorf("no lastState.terminated")
			}
			return nil
		})
		last := containerStatus(p, "busybox").LastTerminationState.Terminated
		if ran := last.FinishedAt.Sub(last.StartedAt.Time); ran < 3*time.Second {
			t.Errorf("the first container ran %v: it was killed before the startup probe could succeed (3 s)", ran)
		}
		d.waitEvent("startup", "Killing", "failed liveness probe", 10*time.Second)
	})
}

// Case 17: "should be ready immediately after startupProbe succeeds": the
// readiness probe (period 20 s) runs the moment the startup probe
// succeeds, not a period later, and the pod is never Ready before the
// container is Started.
func TestE2EProbe17ReadyImmediatelyAfterStartup(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("startup.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: %[1]s
    command: ["sh", "-c", "touch /tmp/health; sleep 4; touch /tmp/startup; sleep 600"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/health"]}
      periodSeconds: 20
    startupProbe:
      exec: {command: ["cat", "/tmp/startup"]}
      periodSeconds: 1
      failureThreshold: 120
`))
		d.waitPod("startup", 60*time.Second, "runs", allRunning)
		const bound = 5 * time.Second
		var startedSeen time.Time
		deadline := time.Now().Add(60 * time.Second)
		for {
			p, err := d.pod("default", "startup")
			if err != nil {
				t.Fatal(err)
			}
			cs := containerStatus(p, "busybox")
			started := cs != nil && cs.Started != nil && *cs.Started
			ready := isReady(p) || (cs != nil && cs.Ready)
			if k.sidecar && !started {
				// App containers wait for the sidecar to have started.
				if main := containerStatus(p, "main"); main != nil && main.State.Running != nil {
					t.Fatalf("the app container runs before the sidecar's startup probe succeeded")
				}
			}
			if isReady(p) && !cs.Ready {
				t.Fatalf("the pod is Ready, its container is not: %+v", cs)
			}
			now := time.Now()
			if started && startedSeen.IsZero() {
				startedSeen = now
				if run := cs.State.Running; run != nil && now.Sub(run.StartedAt.Time) < 3*time.Second {
					t.Errorf("Started %v after the container's start, before /tmp/startup exists (4 s)", now.Sub(run.StartedAt.Time))
				}
			}
			if ready {
				if !started {
					t.Fatalf("the pod is Ready before its container is Started: %+v", cs)
				}
				readyIn := now.Sub(startedSeen)
				t.Logf("Ready %v after Started was observed", readyIn)
				if readyIn > bound {
					t.Fatalf("Ready %v after Started, more than %v: the readiness probe was not run at once after the startup probe succeeded", readyIn, bound)
				}
				if cs.RestartCount != 0 {
					t.Errorf("restartCount %d, want 0", cs.RestartCount)
				}
				return
			}
			if !startedSeen.IsZero() && now.Sub(startedSeen) > bound {
				t.Fatalf("not Ready %v after Started (readiness period 20 s): the readiness probe waits for its period", now.Sub(startedSeen))
			}
			if now.After(deadline) {
				t.Fatalf("never Started and Ready: %+v", cs)
			}
			time.Sleep(50 * time.Millisecond) // sampling the status, not synchronising
		}
	})
}

// Cases 18 and 19: "should override timeoutGracePeriodSeconds when
// LivenessProbe field is set" and "... StartupProbe field is set": the
// container ignores SIGTERM (sleep as PID 1), the pod's grace period is
// 500 s and the probe's 3 s. The container is killed after the probe's
// grace, not the pod's, and restarted.
func TestE2EProbe18LivenessProbeGracePeriod(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		testProbeGracePeriod(t, k, "livenessProbe", "httpGet: {path: /, port: 8080}", "failed liveness probe")
	})
}

func TestE2EProbe19StartupProbeGracePeriod(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		testProbeGracePeriod(t, k, "startupProbe", `exec: {command: ["cat", "/tmp/startup"]}`, "failed startup probe")
	})
}

func testProbeGracePeriod(t *testing.T, k kind, probeKind, handler, killMsg string) {
	d := startE2EDaemon(t)
	d.writeManifest("grace.yaml", k.pod(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: grace}
spec:
  terminationGracePeriodSeconds: 500
  containers:
  - name: busybox
    image: %%[1]s
    command: ["sleep", "1000"]
    %s:
      %s
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 1
      terminationGracePeriodSeconds: 3
`, probeKind, handler)))
	start := time.Now()
	p := d.livenessTest("grace", "busybox", 1, 30*time.Second)
	took := time.Since(start)
	t.Logf("restarted %v after the pod was written", took.Round(time.Millisecond))
	p = d.waitPod("grace", 10*time.Second, "records the killed container", func(p *v1.Pod) error {
		if cs := containerStatus(p, "busybox"); cs == nil || cs.LastTerminationState.Terminated == nil {
			return fmt.Errorf("no lastState.terminated")
		}
		return nil
	})
	kill := d.waitEvent("grace", "Killing", killMsg, 5*time.Second)
	last := containerStatus(p, "busybox").LastTerminationState.Terminated
	// The container ignores SIGTERM, so it ends by SIGKILL once the
	// probe's grace (3 s) is over: not at once, and not after 500 s.
	killedAfter := last.FinishedAt.Sub(kill.FirstTimestamp.Time)
	t.Logf("Killing event at %v, container finished %v later (exit %d)", kill.FirstTimestamp, killedAfter, last.ExitCode)
	if killedAfter < 2*time.Second {
		t.Errorf("the container was killed %v after the Killing event: the probe's grace period of 3 s was not given", killedAfter)
	}
	if last.ExitCode != 137 {
		t.Errorf("the container exited with %d, want 137 (SIGKILL after the grace period)", last.ExitCode)
	}
	// Removing the pod would wait its 500 s grace period: end the
	// container here, as a node operator would.
	_, pids := d.pids(p)
	d.removeManifest("grace.yaml")
	for _, pid := range pids {
		killPID(pid)
	}
	d.waitGone("grace", 30*time.Second)
}

// Case 20: "should *not* be restarted with a GRPC liveness probe".
func TestE2EProbe20GRPCLivenessNoRestart(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("grpc.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: grpc}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["grpc-health", "--port", "5000"]
    livenessProbe:
      grpc: {port: 5000}
      initialDelaySeconds: 2
      timeoutSeconds: 5
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("grpc", "agnhost", 0, 8*time.Second)
		if n := d.probeCount("grpc", "agnhost", "Liveness", "successful"); n < 4 {
			t.Errorf("%d successful gRPC liveness probes in 8 s with periodSeconds 1: the probe does not run", n)
		}
	})
}

// Case 21: "should be restarted with a GRPC liveness probe" (wrong port),
// not before its initial delay (the kubelet's 60 s, longer than the
// timeout, becomes 6 s beside a timeout of 2 s: the blocking dial to a
// closed port fails only at the timeout).
func TestE2EProbe21GRPCLivenessWrongPortRestarts(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		d := startE2EDaemon(t)
		d.writeManifest("grpc.yaml", k.pod(`apiVersion: v1
kind: Pod
metadata: {name: grpc}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: %[2]s
    args: ["grpc-health", "--port", "5000"]
    livenessProbe:
      grpc: {port: 2333}
      initialDelaySeconds: 6
      timeoutSeconds: 2
      periodSeconds: 1
      failureThreshold: 1
`))
		d.livenessTest("grpc", "agnhost", 1, 30*time.Second)
		p := d.waitPod("grpc", 10*time.Second, "records the killed container", func(p *v1.Pod) error {
			if cs := containerStatus(p, "agnhost"); cs == nil || cs.LastTerminationState.Terminated == nil {
				return fmt.Errorf("no lastState.terminated")
			}
			return nil
		})
		last := containerStatus(p, "agnhost").LastTerminationState.Terminated
		if ran := last.FinishedAt.Sub(last.StartedAt.Time); ran < 6*time.Second {
			t.Errorf("the container was killed %v after its start, before initialDelaySeconds 6", ran)
		}
		e := d.waitEvent("grpc", "Unhealthy", "Liveness probe failed", 5*time.Second)
		if !strings.Contains(e.Message, "2333") {
			t.Errorf("the Unhealthy message does not name the probed port: %s", e.Message)
		}
	})
}
