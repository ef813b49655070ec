package pod

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/clock"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/podvolume"
	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/runtime/runtimetest"
)

// fakeNet records network calls.
type fakeNet struct {
	mu       sync.Mutex
	attached map[string]bool
	netns    map[string]bool
}

func (n *fakeNet) CreateNetns(id string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.netns[id] = true
	return "/run/netns/" + id, nil
}
func (n *fakeNet) Attach(_ context.Context, _ string, a Attachment) ([]net.IP, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attached[a.PodID] = true
	return []net.IP{net.ParseIP("10.0.0.7")}, nil
}
func (n *fakeNet) Detach(_ context.Context, _ string, a Attachment) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.attached, a.PodID)
	return nil
}
func (n *fakeNet) RemoveNetns(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.netns, id)
	return nil
}
func (n *fakeNet) ListNetns() ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ids []string
	for id := range n.netns {
		ids = append(ids, id)
	}
	return ids, nil
}

// fakeHost records what was prepared and the files of volumes.
type fakeHost struct {
	mu       sync.Mutex
	prepared map[string]bool
	volumes  map[string]podvolume.Payload // by volume name
	writes   int
	// volumesRemoved: the state dirs whose volumes RemoveVolumes took.
	volumesRemoved []string
}

func (h *fakeHost) WriteVolume(_ *v1.Pod, _ podsandbox.Paths, name string, files podvolume.Payload) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.volumes == nil {
		h.volumes = map[string]podvolume.Payload{}
	}
	h.volumes[name] = files
	h.writes++
	return true, nil
}

func (h *fakeHost) Prepare(pod *v1.Pod, _ podsandbox.Paths) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prepared[string(pod.UID)] = true
	return nil
}
func (h *fakeHost) WriteFiles(*v1.Pod, podsandbox.Paths, []string) error { return nil }
func (h *fakeHost) RemoveVolumes(p podsandbox.Paths) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.volumesRemoved = append(h.volumesRemoved, p.StateDir)
	return nil
}
func (h *fakeHost) Teardown(p podsandbox.Paths) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for uid := range h.prepared {
		if strings.HasSuffix(p.StateDir, uid) {
			delete(h.prepared, uid)
		}
	}
	return nil
}
func (h *fakeHost) RemoveLogs(podsandbox.Paths) error                      { return nil }
func (h *fakeHost) LinkContainerLog(*v1.Pod, string, string, string) error { return nil }
func (h *fakeHost) RemoveContainerLogLink(*v1.Pod, string, string) error   { return nil }
func (h *fakeHost) LimitClaim(string, int64) (bool, error)                 { return false, nil }
func (h *fakeHost) RemoveOldContainerLogs(podsandbox.Paths, string, int) error {
	return nil
}
func (h *fakeHost) RemoveCgroup(string) error { return nil }

// funcClock is a clock.Clock reading its time from a function.
type funcClock func() time.Time

func (f funcClock) Now() time.Time                       { return f() }
func (f funcClock) NewTimer(d time.Duration) clock.Timer { return clock.Real{}.NewTimer(d) }

type harness struct {
	t    *testing.T
	now  time.Time
	rt   *runtimetest.Fake
	net  *fakeNet
	host *fakeHost
	w    *worker
}

func newHarness(t *testing.T, pod *v1.Pod) *harness {
	h := &harness{t: t, now: time.Unix(1_700_000_000, 0)}
	h.rt = runtimetest.New(func() time.Time { return h.now })
	h.rt.AddImage("pause:1", runtime.ImageConfig{Entrypoint: []string{"/pause"}})
	h.rt.AddImage("busybox:1", runtime.ImageConfig{Cmd: []string{"sh"}})
	h.net = &fakeNet{attached: map[string]bool{}, netns: map[string]bool{}}
	h.host = &fakeHost{prepared: map[string]bool{}}
	d := &deps{
		cfg: Config{RootDir: t.TempDir(), RunDir: t.TempDir(), PodLogDir: t.TempDir(), PauseImage: "pause:1", HostIP: "192.168.0.2", CgroupRoot: "/minilet/test"},
		rt:  h.rt, net: h.net, host: h.host, obs: nopObserver{}, log: zap.NewNop(),
		clock: funcClock(func() time.Time { return h.now }), backoff: restart.DefaultBackoff(0),
	}
	h.w = newWorker(d, podRecord{Pod: pod, File: "/etc/minilet/p.yaml", Hash: "h1"}, h.now)
	return h
}

func (h *harness) sync() time.Duration { return h.w.sync(context.Background()) }

func (h *harness) status() v1.PodStatus { return h.w.snapshot().Status }

func (h *harness) id(name string, attempt int) string {
	return podsandbox.ContainerID(h.w.podID, name, attempt)
}

func (h *harness) state(id string) runtime.ContainerState {
	c, err := h.rt.ContainerStatus(context.Background(), id)
	if err != nil {
		return "absent"
	}
	return c.State
}

// sandboxID is the ID of the pod's pause container (there is one at most).
func (h *harness) sandboxID() string {
	cs, _ := h.rt.ListContainers(context.Background(), map[string]string{podsandbox.LabelContainerType: podsandbox.TypeSandbox})
	if len(cs) != 1 {
		h.t.Fatalf("%d pause containers", len(cs))
	}
	return cs[0].ID
}

func newPod(policy v1.RestartPolicy, inits []string, apps ...string) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "uid-p"},
		Spec: v1.PodSpec{RestartPolicy: policy}}
	for _, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: n, Image: "busybox:1"})
	}
	for _, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: n, Image: "busybox:1"})
	}
	return p
}

func TestInitContainersRunInOrderBeforeApps(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, []string{"i1", "i2"}, "app"))
	h.sync()
	if h.state(h.id("i1", 0)) != runtime.StateRunning || h.state(h.id("i2", 0)) != "absent" || h.state(h.id("app", 0)) != "absent" {
		t.Fatalf("after the first sync only i1 may run: i1=%s i2=%s app=%s", h.state(h.id("i1", 0)), h.state(h.id("i2", 0)), h.state(h.id("app", 0)))
	}
	if st := h.status(); st.Phase != v1.PodPending || st.ContainerStatuses[0].State.Waiting.Reason != "PodInitializing" {
		t.Fatalf("status while initializing: %s %+v", st.Phase, st.ContainerStatuses[0].State)
	}
	h.rt.Exit(h.id("i1", 0), 0)
	h.sync()
	if h.state(h.id("i2", 0)) != runtime.StateRunning || h.state(h.id("app", 0)) != "absent" {
		t.Fatalf("after i1 completed: i2=%s app=%s", h.state(h.id("i2", 0)), h.state(h.id("app", 0)))
	}
	h.rt.Exit(h.id("i2", 0), 0)
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatalf("app not started after init containers")
	}
	st := h.status()
	if st.Phase != v1.PodRunning || st.PodIP != "10.0.0.7" {
		t.Fatalf("phase %s ip %s", st.Phase, st.PodIP)
	}
	for _, c := range st.Conditions {
		if c.Status != v1.ConditionTrue {
			t.Errorf("condition %s = %s", c.Type, c.Status)
		}
	}
}

func TestFailedInitContainerIsRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, []string{"i1"}, "app"))
	h.sync()
	h.rt.Exit(h.id("i1", 0), 1)
	h.sync()
	if h.state(h.id("i1", 1)) != runtime.StateRunning {
		t.Fatal("first restart of a failed init container must be immediate")
	}
	h.rt.Exit(h.id("i1", 1), 1)
	if next := h.sync(); next != 10*time.Second {
		t.Fatalf("second restart wakes in %v, want 10s", next)
	}
	if h.state(h.id("i1", 2)) != "absent" || h.state(h.id("app", 0)) != "absent" {
		t.Fatal("restarted during back-off, or app started after a failed init")
	}
}

func TestRestartPolicies(t *testing.T) {
	cases := []struct {
		policy      v1.RestartPolicy
		code        int32
		restarted   bool
		phase       v1.PodPhase
		termination string
	}{
		{v1.RestartPolicyAlways, 0, true, v1.PodRunning, ""},
		{v1.RestartPolicyAlways, 2, true, v1.PodRunning, ""},
		{v1.RestartPolicyOnFailure, 0, false, v1.PodSucceeded, "Completed"},
		{v1.RestartPolicyOnFailure, 2, true, v1.PodRunning, ""},
		{v1.RestartPolicyNever, 0, false, v1.PodSucceeded, "Completed"},
		{v1.RestartPolicyNever, 2, false, v1.PodFailed, "Error"},
	}
	for _, c := range cases {
		t.Run(string(c.policy)+"/"+string(rune('0'+c.code)), func(t *testing.T) {
			h := newHarness(t, newPod(c.policy, nil, "app"))
			h.sync()
			h.rt.Exit(h.id("app", 0), c.code)
			h.sync()
			restarted := h.state(h.id("app", 1)) == runtime.StateRunning
			if restarted != c.restarted {
				t.Fatalf("restarted = %v, want %v", restarted, c.restarted)
			}
			st := h.status()
			if st.Phase != c.phase {
				t.Fatalf("phase = %s, want %s", st.Phase, c.phase)
			}
			cs := st.ContainerStatuses[0]
			if c.restarted {
				if cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != c.code {
					t.Fatalf("after a restart: %+v", cs)
				}
			} else if cs.State.Terminated == nil || cs.State.Terminated.Reason != c.termination {
				t.Fatalf("terminated state: %+v", cs.State)
			}
		})
	}
}

func TestCrashLoopBackOffStatusAndExpiry(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	h.now = h.now.Add(time.Second)
	h.rt.Exit(h.id("app", 0), 1)
	h.sync() // immediate restart
	h.now = h.now.Add(time.Second)
	h.rt.Exit(h.id("app", 1), 1)
	if next := h.sync(); next != 10*time.Second {
		t.Fatalf("wake in %v, want 10s", next)
	}
	if ph := h.status().Phase; ph != v1.PodRunning {
		t.Fatalf("a crash-looping pod under Always is %s, want Running (the kubelet's getPhase)", ph)
	}
	cs := h.status().ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || !strings.Contains(cs.State.Waiting.Message, "back-off 10s") {
		t.Fatalf("state during back-off: %+v", cs.State)
	}
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Fatalf("lastState during back-off: %+v", cs.LastTerminationState)
	}
	h.now = h.now.Add(4 * time.Second)
	if next := h.sync(); next != 6*time.Second {
		t.Fatalf("wake in %v after 4s, want 6s", next)
	}
	h.now = h.now.Add(6 * time.Second)
	h.sync()
	if h.state(h.id("app", 2)) != runtime.StateRunning {
		t.Fatal("not restarted when the back-off expired")
	}
	if h.state(h.id("app", 0)) != "absent" {
		t.Fatal("attempts older than the previous one must be removed")
	}
}

func TestTeardownRemovesEverything(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, []string{"init"}, "a", "b"))
	h.sync()
	h.rt.Exit(h.id("init", 0), 0)
	h.sync()
	if !h.net.attached[h.w.podID] {
		t.Fatal("network not attached")
	}
	h.w.terminate()
	h.sync()
	if !h.w.isTorndown() {
		t.Fatal("teardown did not finish")
	}
	if cs, _ := h.rt.ListContainers(context.Background(), nil); len(cs) != 0 {
		t.Fatalf("containers left: %v", cs)
	}
	if len(h.net.attached) != 0 || len(h.net.netns) != 0 || len(h.host.prepared) != 0 {
		t.Fatalf("left: attached %v netns %v host %v", h.net.attached, h.net.netns, h.host.prepared)
	}
	stops := 0
	for _, c := range h.rt.Calls() {
		if strings.HasPrefix(c, "StopContainer "+h.id("a", 0)) && strings.HasSuffix(c, " 30s") {
			stops++
		}
	}
	if stops != 1 {
		t.Fatalf("container a not stopped with the pod's 30s grace: %v", h.rt.Calls())
	}
}

func TestDeadSandboxIsRecreated(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	h.rt.Exit(h.sandboxID(), 0)
	h.sync()
	if h.state(h.sandboxID()) != runtime.StateRunning {
		t.Fatal("sandbox not recreated")
	}
	if h.state(h.id("app", 1)) != runtime.StateRunning {
		t.Fatalf("app not restarted in the new sandbox: %v", h.rt.Calls())
	}
}

func TestSidecarStartsBeforeAppsAndRestarts(t *testing.T) {
	pod := newPod(v1.RestartPolicyNever, []string{"side", "init"}, "app")
	always := v1.ContainerRestartPolicyAlways
	pod.Spec.InitContainers[0].RestartPolicy = &always
	h := newHarness(t, pod)
	h.sync()
	if h.state(h.id("side", 0)) != runtime.StateRunning || h.state(h.id("init", 0)) != runtime.StateRunning {
		t.Fatalf("the sidecar must run and the next init container start: side=%s init=%s", h.state(h.id("side", 0)), h.state(h.id("init", 0)))
	}
	h.rt.Exit(h.id("init", 0), 0)
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("app not started with a running sidecar")
	}
	h.rt.Exit(h.id("side", 0), 1)
	h.sync()
	if h.state(h.id("side", 1)) != runtime.StateRunning {
		t.Fatal("a sidecar is restarted even under restartPolicy Never")
	}
	if st := h.status(); st.Phase != v1.PodRunning || st.InitContainerStatuses[0].State.Running == nil {
		t.Fatalf("status: %s %+v", st.Phase, st.InitContainerStatuses[0].State)
	}
}

func TestEventsFoldRepeatsPerContainer(t *testing.T) {
	now := time.Unix(0, 0)
	l := newEventLog(newPod(v1.RestartPolicyAlways, nil, "a", "b"), func() time.Time { return now }, nil)
	l.record(v1.EventTypeNormal, "Pulled", "image present", "a")
	l.record(v1.EventTypeNormal, "Pulled", "image present", "b")
	l.record(v1.EventTypeNormal, "Pulled", "image present", "a")
	evs := l.list()
	if len(evs) != 2 || evs[1].Count != 2 || evs[1].InvolvedObject.FieldPath != "spec.containers{a}" {
		t.Fatalf("events: %+v", evs)
	}
}

func (h *harness) hasEvent(reason string) bool {
	for _, e := range h.w.events.list() {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

// After a reboot the runtime keeps containers but no tasks: the pod runs
// again in a new sandbox, init containers run again as new attempts (the
// fake, as runc, refuses a spec that joins the old pause's namespaces).
func TestRebootMakesNewSandboxAndAttempts(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, []string{"init"}, "app"))
	h.sync()
	h.rt.Exit(h.id("init", 0), 0)
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("app not running before the reboot")
	}
	h.rt.Reboot()
	h.sync()
	if h.state(h.sandboxID()) != runtime.StateRunning {
		t.Fatalf("sandbox not made again: %v", h.rt.Calls())
	}
	if h.state(h.id("init", 1)) != runtime.StateRunning || h.state(h.id("app", 1)) != "absent" {
		t.Fatalf("init must run again first: init#1=%s app#1=%s", h.state(h.id("init", 1)), h.state(h.id("app", 1)))
	}
	h.rt.Exit(h.id("init", 1), 0)
	h.sync()
	if h.state(h.id("app", 1)) != runtime.StateRunning {
		t.Fatalf("app not running again after the reboot: %v", h.rt.Calls())
	}
	st := h.status()
	if st.Phase != v1.PodRunning || st.ContainerStatuses[0].RestartCount != 1 {
		t.Fatalf("status after the reboot: %s restartCount %d", st.Phase, st.ContainerStatuses[0].RestartCount)
	}
	if !h.hasEvent("SandboxChanged") {
		t.Fatal("no SandboxChanged event")
	}
}

// Partial states a killed daemon leaves, fed to a worker that adopts the
// pod (not fresh): each converges to one running sandbox and app, with
// nothing left over.
func TestAdoptedPartialStatesConverge(t *testing.T) {
	cases := map[string]func(h *harness){
		"pause task made, never started": func(h *harness) {
			h.sync()
			h.rt.LeaveTaskCreated(h.sandboxID())
			h.w.rec.PodIPs = nil
		},
		"app container made, task made, never started": func(h *harness) {
			h.sync()
			h.rt.LeaveTaskCreated(h.id("app", 0))
		},
		"snapshot prepared, container never written": func(h *harness) {
			h.sync()
			h.rt.LeaveSnapshot(h.id("app", 1))
		},
		"pause running, record without IPs": func(h *harness) {
			h.sync()
			h.w.rec.PodIPs = nil
		},
	}
	for name, leave := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
			leave(h)
			h.w.lookedDeep = false // as a worker adopted after a restart
			h.sync()
			cs, _ := h.rt.ListContainers(context.Background(), nil)
			running := 0
			for _, c := range cs {
				if c.State == runtime.StateRunning {
					running++
				}
			}
			if running != 2 {
				t.Fatalf("want the pause and the app running, got %+v", cs)
			}
			snaps, _ := h.rt.ListSnapshots(context.Background(), h.w.podID)
			if len(snaps) != len(cs) {
				t.Fatalf("snapshots %v for containers %d", snaps, len(cs))
			}
			if st := h.status(); st.Phase != v1.PodRunning || st.PodIP == "" {
				t.Fatalf("status: %s ip %q", st.Phase, st.PodIP)
			}
		})
	}
}

func TestTeardownRemovesOrphanSnapshots(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	h.rt.LeaveSnapshot(h.id("app", 1))
	h.w.terminate()
	h.sync()
	if !h.w.isTorndown() {
		t.Fatal("teardown did not finish")
	}
	if snaps, _ := h.rt.ListSnapshots(context.Background(), ""); len(snaps) != 0 {
		t.Fatalf("snapshots left: %v", snaps)
	}
}

// containerd killed while it made a task may leave state under that ID
// that no later call can clear: the container is made again under the
// next attempt's ID, at once.
func TestTaskLeftoverGetsANewAttempt(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.rt.FailStart[h.id("app", 0)] = fmt.Errorf("create task: %w: mkdir bundle: file exists", runtime.ErrTaskLeftover)
	h.sync()
	if h.state(h.id("app", 1)) != runtime.StateRunning {
		t.Fatalf("app not started as attempt 1: %v", h.rt.Calls())
	}
	if h.state(h.id("app", 0)) != "absent" {
		t.Fatal("the unusable attempt 0 was not removed")
	}
}

// TestEvictedPodStopsForGood: an eviction saved in the record stops every
// container with its grace period, never restarts them whatever the
// policy, reports the kubelet's status and removes the pod's volumes.
func TestEvictedPodStopsForGood(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Fatal("app not running")
	}
	const msg = "The node was low on resource: memory. "
	errc := make(chan error, 1)
	go func() {
		errc <- h.w.requestEdit(context.Background(), &recordEdit{what: "the eviction of the pod",
			edit: func(r *podRecord) {
				r.Evicted = &evictionRecord{At: h.now, Reason: "Evicted", ConditionReason: "TerminationByKubelet", Message: msg, GracePeriod: 1}
			},
			saved: func() {}})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.w.mu.Lock()
		n := len(h.w.pendingEdits)
		h.w.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the edit never reached the worker")
		}
		time.Sleep(time.Millisecond)
	}
	h.sync()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if h.state(h.id("app", 0)) != runtime.StateExited {
		t.Fatalf("app is %s, want exited", h.state(h.id("app", 0)))
	}
	graceOK := false
	for _, c := range h.rt.Calls() {
		if strings.HasPrefix(c, "StopContainer "+h.id("app", 0)) && strings.HasSuffix(c, " 1s") {
			graceOK = true
		}
	}
	if !graceOK {
		t.Errorf("not stopped with the eviction's 1s: %v", h.rt.Calls())
	}
	h.sync()
	if len(h.host.volumesRemoved) != 1 {
		t.Errorf("volumes removed %v, want once", h.host.volumesRemoved)
	}
	h.now = h.now.Add(time.Hour)
	h.sync()
	if h.state(h.id("app", 1)) != "absent" {
		t.Fatal("an evicted pod's container was started again")
	}
	st := h.status()
	if st.Phase != v1.PodFailed || st.Reason != "Evicted" || st.Message != msg {
		t.Fatalf("status %s %s %q", st.Phase, st.Reason, st.Message)
	}
	var dt *v1.PodCondition
	for i := range st.Conditions {
		if st.Conditions[i].Type == v1.DisruptionTarget {
			dt = &st.Conditions[i]
		}
	}
	if dt == nil || dt.Status != v1.ConditionTrue || dt.Reason != "TerminationByKubelet" || dt.Message != msg {
		t.Fatalf("DisruptionTarget %+v", dt)
	}
	rec, err := loadRecord(recordPath(h.w.paths))
	if err != nil || rec.Evicted == nil || rec.Evicted.Message != msg {
		t.Fatalf("record %+v %v: a restarted daemon would not know of the eviction", rec.Evicted, err)
	}
}

// TestEphemeralContainerStartsOnceInTargetPIDNamespace: an ephemeral
// container added to a running pod starts once, joins its target's PID
// namespace, never restarts, and has its own status.
func TestEphemeralContainerStartsOnceInTargetPIDNamespace(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	appPID := uint32(0)
	if c, err := h.rt.ContainerStatus(context.Background(), h.id("app", 0)); err == nil {
		appPID = c.PID
	}
	if appPID == 0 {
		t.Fatal("app has no PID")
	}
	h.w.mu.Lock()
	pod := h.w.rec.Pod.DeepCopy()
	pod.Spec.EphemeralContainers = []v1.EphemeralContainer{{
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debugger", Image: "busybox:1", Command: []string{"ps"}},
		TargetContainerName:      "app",
	}}
	h.w.rec.Pod = pod
	h.w.mu.Unlock()
	h.sync()
	id := h.id("debugger", 0)
	spec, ok := h.rt.Spec(id)
	if !ok || h.state(id) != runtime.StateRunning {
		t.Fatalf("debugger not started: %v", h.rt.Calls())
	}
	if want := fmt.Sprintf("/proc/%d/ns/pid", appPID); spec.Namespaces.PID.Path != want {
		t.Errorf("PID namespace %q, want the target's %q", spec.Namespaces.PID.Path, want)
	}
	if spec.Labels[podsandbox.LabelContainerType] != podsandbox.TypeEphemeral {
		t.Errorf("labels %v", spec.Labels)
	}
	h.rt.Exit(id, 3)
	h.now = h.now.Add(time.Hour)
	h.sync()
	if h.state(h.id("debugger", 1)) != "absent" {
		t.Fatal("an ephemeral container was started again")
	}
	st := h.status()
	if len(st.EphemeralContainerStatuses) != 1 {
		t.Fatalf("ephemeral statuses %+v", st.EphemeralContainerStatuses)
	}
	es := st.EphemeralContainerStatuses[0]
	if es.Name != "debugger" || es.State.Terminated == nil || es.State.Terminated.ExitCode != 3 || es.RestartCount != 0 {
		t.Errorf("status %+v", es)
	}
	if st.Phase != v1.PodRunning || len(st.ContainerStatuses) != 1 {
		t.Errorf("the pod's phase or containers changed: %s %d", st.Phase, len(st.ContainerStatuses))
	}
}

// The API server changed the image of a running pod's container: the
// worker kills that container and starts it again from the new image, in
// the same sandbox, under restartPolicy Never too; the status shows the
// restart and the new image, and a Killing event says why.
func TestImageChangedInPlace(t *testing.T) {
	pod := newPod(v1.RestartPolicyNever, nil, "app", "other")
	pod.Annotations = map[string]string{manifest.ConfigSourceAnnotation: manifest.ConfigSourceAPI}
	h := newHarness(t, pod)
	h.rt.AddImage("busybox:2", runtime.ImageConfig{Cmd: []string{"sh"}})
	h.sync()
	sandbox := h.sandboxID()
	if h.state(h.id("app", 0)) != runtime.StateRunning || h.state(h.id("other", 0)) != runtime.StateRunning {
		t.Fatal("the pod does not run")
	}
	changed := pod.DeepCopy()
	changed.Spec.Containers[0].Image = "busybox:2"
	h.now = h.now.Add(time.Minute)
	h.w.setDesiredMeta(manifest.Pod{Pod: changed, File: "/etc/minilet/p.yaml", Hash: "h2"})
	h.sync()
	h.w.bg.Wait() // the kill runs in the background
	h.sync()
	if h.state(h.id("app", 0)) != runtime.StateExited || h.state(h.id("app", 1)) != runtime.StateRunning {
		t.Fatalf("app#0 %s, app#1 %s", h.state(h.id("app", 0)), h.state(h.id("app", 1)))
	}
	if h.state(h.id("other", 0)) != runtime.StateRunning || h.state(h.id("other", 1)) != "absent" {
		t.Fatal("the other container was restarted")
	}
	if c, _ := h.rt.ContainerStatus(context.Background(), h.id("app", 1)); c.Image != "busybox:2" {
		t.Errorf("app#1 made from %q", c.Image)
	}
	if h.sandboxID() != sandbox {
		t.Error("the sandbox was made again")
	}
	st := h.status()
	if cs := st.ContainerStatuses[0]; cs.RestartCount != 1 || cs.Image != "busybox:2" || cs.State.Running == nil {
		t.Errorf("status %+v", cs)
	}
	if !h.hasEventText("Killing", "Container app definition changed, will be restarted") {
		t.Errorf("events %+v", h.w.events.list())
	}
	if rec := h.w.record(); rec.SpecChangedAt == nil || rec.Pod.Spec.Containers[0].Image != "busybox:2" {
		t.Errorf("record %+v", rec)
	}
}

// An ephemeral container the API server added with what minilet cannot
// honour (stdin without a terminal) is not made: it waits with
// CreateContainerConfigError and the reason, and the pod runs on.
func TestEphemeralContainerMiniletCannotHonour(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync()
	h.w.mu.Lock()
	pod := h.w.rec.Pod.DeepCopy()
	pod.Spec.EphemeralContainers = []v1.EphemeralContainer{{
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debugger", Image: "busybox:1", Stdin: true},
	}}
	h.w.rec.Pod = pod
	h.w.mu.Unlock()
	h.sync()
	if h.state(h.id("debugger", 0)) != "absent" {
		t.Fatal("the debugger was made")
	}
	st := h.status()
	if len(st.EphemeralContainerStatuses) != 1 || st.EphemeralContainerStatuses[0].State.Waiting == nil ||
		st.EphemeralContainerStatuses[0].State.Waiting.Reason != "CreateContainerConfigError" ||
		!strings.Contains(st.EphemeralContainerStatuses[0].State.Waiting.Message, "spec.ephemeralContainers[0].stdin: Forbidden") {
		t.Fatalf("ephemeral statuses %+v", st.EphemeralContainerStatuses)
	}
	if h.state(h.id("app", 0)) != runtime.StateRunning {
		t.Error("the app stopped")
	}
}
