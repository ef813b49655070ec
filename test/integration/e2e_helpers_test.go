package integration

// Helpers of the e2e twins: the tests named TestE2E* port the kubelet's
// own probe and restart e2e cases (kubernetes test/e2e/common/node/
// container_probe.go, runtime.go, container_restart_backoff.go and the
// probe stress case) to minilet, time-compressed: periods of 10 s become
// 1 s, initial delays of 15 s become 2-3 s, windows of "never restarts
// in 4 minutes" become a sampled window of several periods. Each keeps its
// case's logic, and each asserts something a broken minilet would get
// wrong (for "nothing happens" cases: that the probes did run).
//
// container_probe.go cases (numbered as in kubelet-facts.md §8) run twice,
// as subtests: in an app container, and in a sidecar (a restartable init
// container) beside one, as that file repeats them:
//
//	 1 readiness not ready before initial delay    TestE2EProbe01ReadinessNotReadyBeforeInitialDelay
//	 2 failing readiness never ready               TestE2EProbe02FailingReadinessNeverReady
//	 3 exec cat restarts                           TestE2EProbe03ExecLivenessRestarts
//	 4 exec cat no restart                         TestE2EProbe04ExecLivenessNoRestart
//	 5 /healthz restarts                           TestE2EProbe05HTTPLivenessRestarts
//	 6 tcp:8080 no restart                         TestE2EProbe06TCPLivenessNoRestart
//	 7 monotonic restart count                     TestE2EProbe07MonotonicRestartCount
//	 8 http / no restart                           TestE2EProbe08HTTPLivenessNoRestart
//	 9 exec timeout restarts                       TestE2EProbe09ExecLivenessTimeoutRestarts
//	10 exec readiness timeout                      TestE2EProbe10ExecReadinessTimeoutNeverReady
//	11 failing exec outliving the timeout          TestE2EProbe11FailingExecOutlivingTimeoutRestarts
//	12 local redirect                              TestE2EProbe12LocalRedirectFollowed
//	13 non-local redirect                          TestE2EProbe13NonLocalRedirectWarns
//	14 startup fails                               TestE2EProbe14StartupFailureRestarts
//	15 startup delays liveness                     TestE2EProbe15StartupDelaysLiveness
//	16 liveness after startup                      TestE2EProbe16LivenessAfterStartup
//	17 ready immediately after startup             TestE2EProbe17ReadyImmediatelyAfterStartup
//	18 liveness terminationGracePeriodSeconds      TestE2EProbe18LivenessProbeGracePeriod
//	19 startup terminationGracePeriodSeconds       TestE2EProbe19StartupProbeGracePeriod
//	20 gRPC ok                                     TestE2EProbe20GRPCLivenessNoRestart
//	21 gRPC wrong port                             TestE2EProbe21GRPCLivenessWrongPortRestarts
//	22 readiness false while terminating           TestE2EProbe22ReadinessFalseWhileTerminating
//	23 + liveness off while terminating            TestE2EProbe23LivenessOffWhileTerminating
//
// and the others:
//
//	runtime.go "should run with the expected status"   TestE2ERuntimeExpectedStatus
//	container_restart_backoff.go                       TestE2ERestartBackoffTable
//	probe stress (10 containers, period 1)             TestE2EProbeStress
//	hostile probe targets (issue 6)                    TestE2EHostileProbeTargets

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// startE2EDaemon starts a daemon for one e2e twin, with the agnhost image
// imported beside busybox.
func startE2EDaemon(t *testing.T) *daemon {
	t.Helper()
	d := startDaemon(t)
	d.importAgnhost()
	return d
}

// importAgnhost imports the agnhost test image into the daemon's
// namespace.
func (d *daemon) importAgnhost() {
	d.t.Helper()
	out, err := exec.Command(env.minilet, "images", "import", "--containerd-address", env.containerd.address,
		"--containerd-namespace", d.Namespace, env.agnhostTar).CombinedOutput()
	if err != nil {
		d.t.Fatalf("import agnhost image: %v\n%s", err, out)
	}
}

// containerStatus finds the status of a container (app or init) in p,
// nil if there is none.
func containerStatus(p *v1.Pod, name string) *v1.ContainerStatus {
	for _, list := range [][]v1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// podCondition finds a pod condition, nil if there is none.
func podCondition(p *v1.Pod, typ v1.PodConditionType) *v1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// isReady is the kubelet e2e's podutil.IsPodReady: condition Ready is True.
func isReady(p *v1.Pod) bool {
	c := podCondition(p, v1.PodReady)
	return c != nil && c.Status == v1.ConditionTrue
}

// notPending is a waitPod condition: the container has a status and has
// left Pending (running, or terminated already), as the e2e's
// WaitForPodNotPending.
func notPending(container string) func(*v1.Pod) error {
	return func(p *v1.Pod) error {
		cs := containerStatus(p, container)
		if cs == nil || (cs.State.Running == nil && cs.State.Terminated == nil && cs.RestartCount == 0) {
			return fmt.Errorf("container %s not started yet: phase %s", container, p.Status.Phase)
		}
		return nil
	}
}

// restartsOf is the container's restartCount, -1 without a status.
func restartsOf(p *v1.Pod, container string) int32 {
	if cs := containerStatus(p, container); cs != nil {
		return cs.RestartCount
	}
	return -1
}

// livenessTest is the kubelet e2e's RunLivenessTest: wait until the
// container has started, then sample its restartCount until timeout. With
// want > 0 it passes once the count has grown by want; with want == 0 any
// restart fails it. The count must never decrease. It returns the last pod
// seen.
func (d *daemon) livenessTest(pod, container string, want int32, timeout time.Duration) *v1.Pod {
	d.t.Helper()
	p := d.waitPod(pod, 60*time.Second, "has started "+container, notPending(container))
	initial := restartsOf(p, container)
	last := initial
	start := time.Now()
	for time.Since(start) < timeout {
		got, err := d.pod("default", pod)
		if err != nil {
			d.t.Fatalf("pod %s: %v", pod, err)
		}
		p = got
		rc := restartsOf(p, container)
		if rc != last {
			d.t.Logf("restartCount of %s/%s is now %d (%v elapsed)", pod, container, rc, time.Since(start).Round(time.Millisecond))
			if rc < last {
				d.t.Fatalf("restartCount of %s/%s went down from %d to %d: it must grow monotonically", pod, container, last, rc)
			}
		}
		last = rc
		if want > 0 && rc-initial >= want {
			return p
		}
		if want == 0 && rc != initial {
			d.t.Fatalf("%s/%s restarted (restartCount %d → %d) within %v, want no restart", pod, container, initial, rc, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond) // sampling the status, not synchronising
	}
	if want > 0 {
		d.t.Fatalf("%s/%s restarted %d times in %v, want at least %d", pod, container, last-initial, timeout, want)
	}
	return p
}

// neverReady samples the pod for window and fails if it or the container
// is ever Ready, or the container restarts.
func (d *daemon) neverReady(pod, container string, window time.Duration) {
	d.t.Helper()
	for start := time.Now(); time.Since(start) < window; time.Sleep(100 * time.Millisecond) {
		p, err := d.pod("default", pod)
		if err != nil {
			d.t.Fatalf("pod %s: %v", pod, err)
		}
		cs := containerStatus(p, container)
		if cs != nil && cs.Ready {
			d.t.Fatalf("%s became ready %v into the window; it must never be", container, time.Since(start).Round(time.Millisecond))
		}
		if isReady(p) {
			d.t.Fatalf("pod %s became Ready %v into the window; it must never be", pod, time.Since(start).Round(time.Millisecond))
		}
		if cs != nil && cs.RestartCount != 0 {
			d.t.Fatalf("%s/%s restarted (restartCount %d): a readiness probe must never restart", pod, container, cs.RestartCount)
		}
	}
}

// events lists the pod's events.
func (d *daemon) events(pod string) []v1.Event {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := d.Client.PodEvents(ctx, "default", pod)
	if err != nil {
		d.t.Fatalf("events of %s: %v", pod, err)
	}
	return evs.Items
}

// findEvent returns the first event with reason whose message contains
// substr.
func findEvent(evs []v1.Event, reason, substr string) *v1.Event {
	for i := range evs {
		if evs[i].Reason == reason && strings.Contains(evs[i].Message, substr) {
			return &evs[i]
		}
	}
	return nil
}

// waitEvent waits for an event with reason and a message containing
// substr.
func (d *daemon) waitEvent(pod, reason, substr string, timeout time.Duration) v1.Event {
	d.t.Helper()
	var got v1.Event
	d.eventually(timeout, fmt.Sprintf("pod %s has a %s event %q", pod, reason, substr), func() error {
		evs := d.events(pod)
		if e := findEvent(evs, reason, substr); e != nil {
			got = *e
			return nil
		}
		return fmt.Errorf("events: %s", eventSummary(evs))
	})
	return got
}

func eventSummary(evs []v1.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s %s (x%d): %s", e.Type, e.Reason, e.Count, e.Message)
	}
	return b.String()
}

// probeCount reads minilet_probe_total of one container, probe type
// (Liveness, Readiness, Startup) and result (successful, failed, unknown)
// from /metrics.
func (d *daemon) probeCount(pod, container, probeType, result string) int {
	d.t.Helper()
	prefix := fmt.Sprintf(`minilet_probe_total{container=%q,namespace="default",pod=%q,probe_type=%q,result=%q} `, container, pod, probeType, result)
	for _, line := range strings.Split(d.metrics(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				d.t.Fatalf("metric line %q: %v", line, err)
			}
			return int(f)
		}
	}
	return 0
}

// daemonPID is the minilet process's PID.
func (d *daemon) daemonPID() int {
	pid := d.PID()
	if pid == 0 {
		d.t.Fatal("the daemon is not running")
	}
	return pid
}

// openFDs counts the daemon's open file descriptors.
func (d *daemon) openFDs() int {
	d.t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.daemonPID()))
	if err != nil {
		d.t.Fatal(err)
	}
	return len(ents)
}

// procStatusValue reads a number field (VmRSS, Threads) of the daemon's
// /proc/<pid>/status.
func (d *daemon) procStatusValue(field string) int {
	d.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.daemonPID()))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			if err != nil {
				d.t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	d.t.Fatalf("no %s in /proc/<minilet>/status", field)
	return 0
}

// kind is where a probe case's container runs: as the pod's app
// container, or as a sidecar (an init container with restartPolicy
// Always) beside an app container, as container_probe.go repeats its
// cases for restartable init containers.
type kind struct {
	name    string
	sidecar bool
}

// forEachKind runs a probe case as a parallel subtest per kind, each on
// its own daemon.
func forEachKind(t *testing.T, f func(t *testing.T, k kind)) {
	t.Parallel()
	for _, k := range []kind{{name: "container"}, {name: "sidecar", sidecar: true}} {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// pod formats a manifest template (see manifest) with one container, the
// last thing in the pod's spec. As a sidecar, that container moves to
// initContainers with restartPolicy Always, and an app container that
// exits at once on SIGTERM (agnhost webserver on port 8099) runs beside
// it.
func (k kind) pod(tmpl string) string {
	m := manifest(tmpl)
	if !k.sidecar {
		return m
	}
	const containers = "\n  containers:\n  - name: "
	i := strings.Index(m, containers)
	if i < 0 || strings.Count(m, "\n  - name: ") != 1 {
		panic("kind.pod: the manifest must have exactly one container, last in its spec:\n" + m)
	}
	rest := m[i+len(containers):]
	nameLine, body, _ := strings.Cut(rest, "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	return m[:i] + "\n  initContainers:\n  - name: " + nameLine + "\n    restartPolicy: Always\n" + body +
		"  containers:\n  - name: main\n    image: " + AgnhostImage + "\n    args: [\"webserver\", \"--port\", \"8099\"]\n"
}

// manifest formats a pod manifest: the template's %[1]s is BusyboxImage
// and %[2]s AgnhostImage.
func manifest(tmpl string) string {
	return fmt.Sprintf(tmpl, BusyboxImage, AgnhostImage)
}

// killPID sends SIGKILL to a process of a container.
func killPID(pid uint32) {
	_ = syscall.Kill(int(pid), syscall.SIGKILL)
}
