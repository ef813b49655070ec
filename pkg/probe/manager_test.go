package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minilet/minilet/pkg/clock/clocktest"
	"github.com/minilet/minilet/pkg/probe"
	"github.com/minilet/minilet/pkg/probe/probetest"
	mrt "github.com/minilet/minilet/pkg/runtime"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// waitFor polls cond until it holds or 5 seconds pass: workers are
// goroutines, so the tests wait for their effects instead of sleeping.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func recv(t *testing.T, out <-chan probe.Update) probe.Update {
	t.Helper()
	select {
	case u := <-out:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5s")
	}
	panic("unreachable")
}

// noUpdate checks that no update is pending. The tests use an unbuffered
// channel, so once a worker is back waiting on its timer, any update of
// its last probe has been received.
func noUpdate(t *testing.T, out <-chan probe.Update) {
	t.Helper()
	select {
	case u := <-out:
		t.Fatalf("unexpected update %+v", u)
	default:
	}
}

// goroutinesBack waits until the goroutine count is back to base.
func goroutinesBack(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// execer answers exec probes by command name (the first word), counting
// calls per command.
type execer struct {
	mu      sync.Mutex
	answers map[string]func(ctx context.Context) (mrt.ExecResult, error)
	calls   map[string]int
}

func newExecer() *execer {
	return &execer{answers: map[string]func(context.Context) (mrt.ExecResult, error){}, calls: map[string]int{}}
}

func (e *execer) set(cmd string, f func(ctx context.Context) (mrt.ExecResult, error)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answers[cmd] = f
}

func (e *execer) exit(cmd string, code int32, output string) {
	e.set(cmd, func(context.Context) (mrt.ExecResult, error) {
		return mrt.ExecResult{ExitCode: code, Output: []byte(output)}, nil
	})
}

func (e *execer) count(cmd string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[cmd]
}

func (e *execer) Exec(ctx context.Context, _ string, cmd []string, _ time.Duration) (mrt.ExecResult, error) {
	e.mu.Lock()
	e.calls[cmd[0]]++
	f := e.answers[cmd[0]]
	e.mu.Unlock()
	return f(ctx)
}

type observation struct {
	kind   probe.Kind
	result probe.Result
	took   time.Duration
}

type observer struct {
	mu  sync.Mutex
	obs []observation
}

func (o *observer) ObserveProbe(_ probe.Target, kind probe.Kind, result probe.Result, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = append(o.obs, observation{kind, result, took})
}

func (o *observer) list() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observation(nil), o.obs...)
}

type fixture struct {
	clock  *clocktest.Clock
	exec   *execer
	events *probetest.Events
	obs    *observer
	m      *probe.Manager
	out    chan probe.Update
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{
		clock:  clocktest.NewClock(t0),
		exec:   newExecer(),
		events: &probetest.Events{},
		obs:    &observer{},
		out:    make(chan probe.Update),
	}
	f.m = probe.NewManager(f.exec, probe.Options{UserAgent: "minilet-probe/test", Clock: f.clock, Observer: f.obs, Log: zaptest.NewLogger(t)})
	return f
}

func target(id string) probe.Target {
	return probe.Target{PodUID: "uid1", Namespace: "default", Pod: "web", Container: "app", ContainerID: id, PodIP: "127.0.0.1", StartedAt: t0}
}

func execProbe(cmd string, p v1.Probe) *v1.Probe {
	p.Exec = &v1.ExecAction{Command: []string{cmd}}
	return &p
}

func TestManagerLivenessFailure(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFixture(t)
	f.exec.exit("live", 1, "nope")
	c := &v1.Container{Name: "app", LivenessProbe: execProbe("live", v1.Probe{PeriodSeconds: 10, FailureThreshold: 2})}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)

	waitFor(t, "first probe", func() bool { return f.exec.count("live") == 1 && f.clock.Waiters() == 1 })
	if next, _ := f.clock.NextDeadline(); !next.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("next probe at %v, want +10s", next)
	}
	noUpdate(t, f.out)
	f.clock.Advance(10 * time.Second)
	u := recv(t, f.out)
	if u.Kind != probe.Liveness || u.Result != probe.Failure || u.Message != "nope" || u.Target.ContainerID != "c1" {
		t.Fatalf("update %+v", u)
	}
	// Held: the worker exits and probes no more.
	waitFor(t, "worker to stop", func() bool { return f.clock.Waiters() == 0 })
	f.clock.Advance(time.Hour)
	f.m.RemoveContainer("c1")
	if n := f.exec.count("live"); n != 2 {
		t.Fatalf("%d probes, want 2", n)
	}
	evs := f.events.List()
	if len(evs) != 2 || evs[0].Type != "Warning" || evs[0].Reason != "Unhealthy" || evs[0].Message != "Liveness probe failed: nope" {
		t.Fatalf("events %+v", evs)
	}
	if obs := f.obs.list(); len(obs) != 2 || obs[1] != (observation{probe.Liveness, probe.Failure, 0}) {
		t.Fatalf("observations %+v", obs)
	}
	goroutinesBack(t, base)
}

func TestManagerInitialDelayExact(t *testing.T) {
	f := newFixture(t)
	f.exec.exit("live", 0, "")
	tg := target("c1")
	tg.StartedAt = t0.Add(-5 * time.Second) // started 5s before the worker
	c := &v1.Container{LivenessProbe: execProbe("live", v1.Probe{InitialDelaySeconds: 15})}
	f.m.AddContainer(context.Background(), tg, c, f.out, f.events)
	defer f.m.RemoveContainer("c1")

	waitFor(t, "the worker to wait", func() bool { return f.clock.Waiters() == 1 })
	if next, _ := f.clock.NextDeadline(); !next.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("first probe at %v, want StartedAt+15s = %v", next, t0.Add(10*time.Second))
	}
	f.clock.Advance(10*time.Second - time.Millisecond)
	if f.clock.Waiters() != 1 || f.exec.count("live") != 0 {
		t.Fatal("probed before the initial delay")
	}
	f.clock.Advance(time.Millisecond)
	waitFor(t, "the first probe", func() bool { return f.exec.count("live") == 1 })
}

func TestManagerStartupThenReadinessAtOnce(t *testing.T) {
	f := newFixture(t)
	var up atomic.Bool
	f.exec.set("startup", func(context.Context) (mrt.ExecResult, error) {
		if up.Load() {
			return mrt.ExecResult{}, nil
		}
		return mrt.ExecResult{ExitCode: 1, Output: []byte("cat: /tmp/startup: No such file")}, nil
	})
	f.exec.exit("ready", 0, "")
	f.exec.exit("live", 0, "")
	c := &v1.Container{
		StartupProbe:   execProbe("startup", v1.Probe{PeriodSeconds: 5, FailureThreshold: 120}),
		ReadinessProbe: execProbe("ready", v1.Probe{PeriodSeconds: 30}),
		LivenessProbe:  execProbe("live", v1.Probe{PeriodSeconds: 10}),
	}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	defer f.m.RemoveContainer("c1")

	waitFor(t, "the first startup probe", func() bool { return f.exec.count("startup") == 1 && f.clock.Waiters() == 1 })
	f.clock.Advance(5 * time.Second)
	waitFor(t, "the second startup probe", func() bool { return f.exec.count("startup") == 2 && f.clock.Waiters() == 1 })
	if f.exec.count("ready") != 0 || f.exec.count("live") != 0 {
		t.Fatal("liveness or readiness ran before startup succeeded")
	}
	noUpdate(t, f.out)

	up.Store(true)
	f.clock.Advance(5 * time.Second)
	if u := recv(t, f.out); u.Kind != probe.Startup || u.Result != probe.Success {
		t.Fatalf("first update %+v, want startup success", u)
	}
	// Readiness runs at once, without the clock moving.
	if u := recv(t, f.out); u.Kind != probe.Readiness || u.Result != probe.Success {
		t.Fatalf("second update %+v, want readiness success", u)
	}
	waitFor(t, "liveness and readiness to wait a period", func() bool {
		return f.exec.count("live") == 1 && f.clock.Waiters() == 2
	})
	if got := f.clock.Now(); !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("clock moved to %v", got)
	}
	if next, _ := f.clock.NextDeadline(); !next.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("next probe %v, want liveness at +20s", next)
	}
	if n := len(f.events.List()); n != 2 {
		t.Fatalf("%d events, want 2 (the failed startup probes)", n)
	}
}

func TestManagerRemoveCancelsProbeInFlight(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFixture(t)
	var inFlight atomic.Int32
	f.exec.set("hang", func(ctx context.Context) (mrt.ExecResult, error) {
		inFlight.Add(1)
		<-ctx.Done()
		return mrt.ExecResult{}, ctx.Err()
	})
	c := &v1.Container{ReadinessProbe: execProbe("hang", v1.Probe{FailureThreshold: 1})}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	waitFor(t, "the probe to start", func() bool { return inFlight.Load() == 1 })
	done := make(chan struct{})
	go func() { f.m.RemoveContainer("c1"); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RemoveContainer did not return")
	}
	noUpdate(t, f.out)
	if evs := f.events.List(); len(evs) != 0 {
		t.Fatalf("events %+v", evs)
	}
	goroutinesBack(t, base)
}

func TestManagerRemoveWithConsumerGone(t *testing.T) {
	// Nobody reads out: RemoveContainer still stops the worker blocked
	// on sending its update.
	base := runtime.NumGoroutine()
	f := newFixture(t)
	f.exec.exit("ready", 0, "")
	f.m.AddContainer(context.Background(), target("c1"), &v1.Container{ReadinessProbe: execProbe("ready", v1.Probe{})}, f.out, f.events)
	waitFor(t, "the probe", func() bool { return f.exec.count("ready") == 1 })
	f.m.RemoveContainer("c1")
	goroutinesBack(t, base)
}

func TestManagerTerminating(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFixture(t)
	var inFlight atomic.Int32
	f.exec.set("startup", func(ctx context.Context) (mrt.ExecResult, error) {
		inFlight.Add(1)
		<-ctx.Done()
		return mrt.ExecResult{ExitCode: 1}, nil // a runtime that reports the kill as a failure
	})
	f.exec.exit("live", 1, "")
	f.exec.exit("ready", 0, "")
	c := &v1.Container{
		StartupProbe:   execProbe("startup", v1.Probe{FailureThreshold: 1}),
		LivenessProbe:  execProbe("live", v1.Probe{FailureThreshold: 1}),
		ReadinessProbe: execProbe("ready", v1.Probe{}),
	}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	waitFor(t, "the startup probe", func() bool { return inFlight.Load() == 1 })

	f.m.Terminating("uid1")
	// The probe in flight is dropped; startup is set to Success for a
	// quiet shutdown, as the kubelet does; nothing else.
	if u := recv(t, f.out); u.Kind != probe.Startup || u.Result != probe.Success {
		t.Fatalf("update %+v", u)
	}
	waitFor(t, "startup and liveness workers to stop", func() bool { return runtime.NumGoroutine() <= base+1 })
	noUpdate(t, f.out)
	if evs := f.events.List(); len(evs) != 0 {
		t.Fatalf("events %+v", evs)
	}
	if f.exec.count("live") != 0 {
		t.Fatal("liveness probed while terminating")
	}

	// A second container of the pod added now starts terminating.
	c2 := &v1.Container{LivenessProbe: execProbe("live", v1.Probe{FailureThreshold: 1}), ReadinessProbe: execProbe("ready", v1.Probe{})}
	f.m.AddContainer(context.Background(), target("c2"), c2, f.out, f.events)
	if u := recv(t, f.out); u.Kind != probe.Readiness || u.Result != probe.Success || u.Target.ContainerID != "c2" {
		t.Fatalf("update %+v, want readiness of c2", u)
	}
	waitFor(t, "readiness of c2 to wait", func() bool { return f.clock.Waiters() == 1 })
	if f.exec.count("live") != 0 {
		t.Fatal("liveness of a terminating pod probed")
	}
	// Readiness goes on probing.
	f.clock.Advance(10 * time.Second)
	waitFor(t, "readiness to probe again", func() bool { return f.exec.count("ready") == 2 })
	f.m.RemoveContainer("c1")
	f.m.RemoveContainer("c2")
	goroutinesBack(t, base)

	// Once the pod's instances are gone, a pod of that UID is new again.
	f.m.AddContainer(context.Background(), target("c3"), &v1.Container{LivenessProbe: execProbe("live", v1.Probe{FailureThreshold: 1})}, f.out, f.events)
	if u := recv(t, f.out); u.Kind != probe.Liveness || u.Result != probe.Failure {
		t.Fatalf("update %+v", u)
	}
	f.m.RemoveContainer("c3")
}

func TestManagerIdempotentAndEmpty(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFixture(t)
	f.exec.exit("live", 0, "")
	f.m.AddContainer(context.Background(), target("c0"), &v1.Container{}, f.out, f.events)
	f.m.AddContainer(context.Background(), target("c0"), nil, f.out, f.events)
	if runtime.NumGoroutine() != base {
		t.Fatal("a container without probes got workers")
	}
	c := &v1.Container{LivenessProbe: execProbe("live", v1.Probe{})}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	waitFor(t, "the worker to wait", func() bool { return f.clock.Waiters() == 1 && f.exec.count("live") == 1 })
	f.m.RemoveContainer("c1")
	f.m.RemoveContainer("c1")
	f.m.RemoveContainer("unknown")
	f.m.Terminating("no such pod")
	goroutinesBack(t, base)
}

func TestManagerContextEndsWorkers(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFixture(t)
	f.exec.exit("live", 0, "")
	ctx, cancel := context.WithCancel(context.Background())
	f.m.AddContainer(ctx, target("c1"), &v1.Container{LivenessProbe: execProbe("live", v1.Probe{})}, f.out, f.events)
	waitFor(t, "the worker to wait", func() bool { return f.clock.Waiters() == 1 })
	cancel()
	goroutinesBack(t, base)
	f.m.RemoveContainer("c1")
}

func TestManagerObservesDuration(t *testing.T) {
	f := newFixture(t)
	f.exec.set("ready", func(context.Context) (mrt.ExecResult, error) {
		f.clock.Advance(300 * time.Millisecond) // the command takes 300ms
		return mrt.ExecResult{}, nil
	})
	f.m.AddContainer(context.Background(), target("c1"), &v1.Container{ReadinessProbe: execProbe("ready", v1.Probe{})}, f.out, f.events)
	defer f.m.RemoveContainer("c1")
	recv(t, f.out)
	waitFor(t, "the observation", func() bool { return len(f.obs.list()) == 1 })
	if o := f.obs.list()[0]; o != (observation{probe.Readiness, probe.Success, 300 * time.Millisecond}) {
		t.Fatalf("observation %+v", o)
	}
}

func TestManagerHTTPReadiness(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "minilet-probe/test" || !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())

	f := newFixture(t)
	c := &v1.Container{
		Ports:          []v1.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
		ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}, PeriodSeconds: 1},
	}
	f.m.AddContainer(context.Background(), target("c1"), c, f.out, f.events)
	defer f.m.RemoveContainer("c1")
	waitFor(t, "a failed probe", func() bool { return len(f.events.List()) == 1 && f.clock.Waiters() == 1 })
	if ev := f.events.List()[0]; ev.Message != "Readiness probe failed: HTTP probe failed with statuscode: 503" {
		t.Fatalf("event %+v", ev)
	}
	healthy.Store(true)
	f.clock.Advance(time.Second)
	if u := recv(t, f.out); u.Kind != probe.Readiness || u.Result != probe.Success {
		t.Fatalf("update %+v", u)
	}
}
