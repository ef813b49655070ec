package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// scripted is a probe function that answers from a list, one entry per
// call, and counts its calls.
type scripted struct {
	answers []answer
	calls   int
}

type answer struct {
	o   outcome
	msg string
	err error
}

var (
	ok      = answer{o: outcomeSuccess}
	fail    = answer{o: outcomeFailure, msg: "boom"}
	warn    = answer{o: outcomeWarning, msg: "Probe terminated redirects, Response body: moved"}
	errored = answer{err: errors.New("port http not found")}
)

func (s *scripted) probe(context.Context) (outcome, string, error) {
	if s.calls >= len(s.answers) {
		panic("probe called more often than scripted")
	}
	a := s.answers[s.calls]
	s.calls++
	return a.o, a.msg, a.err
}

func testWorker(kind Kind, p v1.Probe, s *scripted) *worker {
	return newWorker(kind, Target{Pod: "web", Container: "app", ContainerID: "c1", StartedAt: t0}, paramsFor(kind, &p), s.probe)
}

// started is the input of a step at now for a started container.
func started(now time.Time) stepInput { return stepInput{now: now, started: true} }

func TestStepInitialDelayIsExact(t *testing.T) {
	s := &scripted{answers: []answer{ok, ok}}
	w := testWorker(Readiness, v1.Probe{InitialDelaySeconds: 15, PeriodSeconds: 10}, s)

	out := w.step(context.Background(), started(t0))
	if out.probed || !out.wake.Equal(t0.Add(15*time.Second)) {
		t.Fatalf("at start: probed %v, wake %v; want no probe, wake at +15s", out.probed, out.wake)
	}
	out = w.step(context.Background(), started(t0.Add(15*time.Second-time.Millisecond)))
	if out.probed {
		t.Fatal("probed 1ms before the initial delay")
	}
	out = w.step(context.Background(), started(t0.Add(15*time.Second)))
	if !out.probed || !out.wake.Equal(t0.Add(25*time.Second)) {
		t.Fatalf("at +15s: probed %v, wake %v; want a probe, wake at +25s", out.probed, out.wake)
	}
	if !out.publish || out.update.Result != Success {
		t.Fatalf("readiness success not published: %+v", out)
	}
	// A tick that comes early (a spurious wake-up) does not probe.
	if out = w.step(context.Background(), started(t0.Add(20*time.Second))); out.probed {
		t.Fatal("probed before the period passed")
	}
	if out = w.step(context.Background(), started(t0.Add(25*time.Second))); !out.probed || out.publish {
		t.Fatalf("at +25s: probed %v publish %v; want a probe and no update", out.probed, out.publish)
	}
}

func TestStepDelayAlreadyPassed(t *testing.T) {
	// A worker added late (daemon restart) probes at once, then every
	// period from then.
	s := &scripted{answers: []answer{ok}}
	w := testWorker(Liveness, v1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 10}, s)
	now := t0.Add(time.Hour)
	out := w.step(context.Background(), started(now))
	if !out.probed || !out.wake.Equal(now.Add(10*time.Second)) {
		t.Fatalf("probed %v wake %v", out.probed, out.wake)
	}
}

// TestStepThresholds runs a worker through a list of probe answers, one
// step per period, and checks what is published and when it stops.
func TestStepThresholds(t *testing.T) {
	type want struct {
		step   int // index of the step that publishes
		result Result
	}
	cases := []struct {
		name      string
		kind      Kind
		probe     v1.Probe
		answers   []answer
		published []want
		stopAfter int // index of the step after which the worker stops; -1 never
		started   bool
	}{
		{"liveness fails after 3 in a row", Liveness, v1.Probe{FailureThreshold: 3},
			[]answer{fail, fail, fail}, []want{{2, Failure}}, 2, false},
		{"liveness streak broken by a success", Liveness, v1.Probe{FailureThreshold: 3},
			[]answer{fail, fail, ok, fail, fail, ok}, nil, -1, false},
		{"liveness success is not published (initial Success)", Liveness, v1.Probe{},
			[]answer{ok, ok, ok}, nil, -1, false},
		{"liveness failure threshold 1", Liveness, v1.Probe{FailureThreshold: 1},
			[]answer{ok, fail}, []want{{1, Failure}}, 1, false},
		{"liveness successThreshold forced to 1", Liveness, v1.Probe{SuccessThreshold: 3, FailureThreshold: 1},
			[]answer{ok, fail}, []want{{1, Failure}}, 1, false},
		{"readiness failures not published (initial Failure)", Readiness, v1.Probe{FailureThreshold: 1},
			[]answer{fail, fail, fail}, nil, -1, false},
		{"readiness flips both ways", Readiness, v1.Probe{SuccessThreshold: 2, FailureThreshold: 2},
			[]answer{ok, ok, ok, fail, fail, fail, ok, fail, ok, ok},
			[]want{{1, Success}, {4, Failure}, {9, Success}}, -1, false},
		{"readiness never holds", Readiness, v1.Probe{FailureThreshold: 1},
			[]answer{ok, fail, ok, fail}, []want{{0, Success}, {1, Failure}, {2, Success}, {3, Failure}}, -1, false},
		{"readiness warning counts as success", Readiness, v1.Probe{},
			[]answer{warn}, []want{{0, Success}}, -1, false},
		{"startup succeeds and stops", Startup, v1.Probe{FailureThreshold: 3},
			[]answer{fail, fail, ok}, []want{{2, Success}}, 2, true},
		{"startup fails and holds", Startup, v1.Probe{FailureThreshold: 3},
			[]answer{fail, fail, fail}, []want{{2, Failure}}, 2, false},
		{"errors do not count", Liveness, v1.Probe{FailureThreshold: 2},
			[]answer{fail, errored, errored, errored, fail}, []want{{2, Failure}}, 2, false},
		{"unknown without error counts as failure", Liveness, v1.Probe{FailureThreshold: 1},
			[]answer{{o: outcomeUnknown}}, []want{{0, Failure}}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &scripted{answers: c.answers}
			w := testWorker(c.kind, c.probe, s)
			now := t0
			var got []want
			stopped := -1
			gotStarted := false
			for i := 0; s.calls < len(c.answers); i++ {
				out := w.step(context.Background(), started(now))
				if !out.probed {
					t.Fatalf("step %d did not probe", i)
				}
				if out.publish {
					got = append(got, want{i, out.update.Result})
					if out.update.Kind != c.kind || out.update.Target.ContainerID != "c1" {
						t.Errorf("update %+v: wrong kind or target", out.update)
					}
				}
				gotStarted = gotStarted || out.started
				if out.stop {
					stopped = i
					break
				}
				now = out.wake
			}
			if len(got) != len(c.published) {
				t.Fatalf("published %v, want %v", got, c.published)
			}
			for i := range got {
				if got[i] != c.published[i] {
					t.Fatalf("published %v, want %v", got, c.published)
				}
			}
			if stopped != c.stopAfter {
				t.Fatalf("stopped after step %d, want %d", stopped, c.stopAfter)
			}
			if gotStarted != c.started {
				t.Fatalf("started signal %v, want %v", gotStarted, c.started)
			}
			if stopped >= 0 {
				// Held: later ticks neither probe nor publish (the
				// script would panic on an extra call).
				out := w.step(context.Background(), started(now.Add(time.Hour)))
				if out.probed || out.publish || !out.stop {
					t.Fatalf("after hold: %+v", out)
				}
			}
		})
	}
}

func TestStepFailureUpdateCarriesReason(t *testing.T) {
	s := &scripted{answers: []answer{{o: outcomeFailure, msg: "HTTP probe failed with statuscode: 500"}}}
	w := testWorker(Liveness, v1.Probe{FailureThreshold: 1}, s)
	out := w.step(context.Background(), started(t0))
	if !out.publish || out.update.Message != "HTTP probe failed with statuscode: 500" {
		t.Fatalf("update %+v", out.update)
	}
	if out.event != (event{"Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"}) {
		t.Fatalf("event %+v", out.event)
	}
	if !out.observed || out.result != Failure {
		t.Fatalf("observed %v %v", out.observed, out.result)
	}
}

func TestStepEvents(t *testing.T) {
	cases := []struct {
		kind     Kind
		answers  []answer
		want     event
		calls    int
		observed bool
	}{
		{Liveness, []answer{fail}, event{"Warning", "Unhealthy", "Liveness probe failed: boom"}, 1, true},
		{Readiness, []answer{fail}, event{"Warning", "Unhealthy", "Readiness probe failed: boom"}, 1, true},
		{Startup, []answer{fail}, event{"Warning", "Unhealthy", "Startup probe failed: boom"}, 1, true},
		{Liveness, []answer{warn}, event{"Warning", "ProbeWarning", "Liveness probe warning: Probe terminated redirects, Response body: moved"}, 1, true},
		{Liveness, []answer{ok}, event{}, 1, true},
		// The prober's own errors: tried 3 times, recorded, not observed.
		{Readiness, []answer{errored, errored, errored}, event{"Warning", "Unhealthy", "Readiness probe errored and resulted in unknown state: port http not found"}, 3, false},
		{Readiness, []answer{errored, errored, fail}, event{"Warning", "Unhealthy", "Readiness probe failed: boom"}, 3, true},
		{Readiness, []answer{errored, ok}, event{}, 2, true},
	}
	for _, c := range cases {
		s := &scripted{answers: c.answers}
		w := testWorker(c.kind, v1.Probe{FailureThreshold: 5}, s)
		out := w.step(context.Background(), started(t0))
		if out.event != c.want || s.calls != c.calls || out.observed != c.observed {
			t.Errorf("%s %v: event %+v calls %d observed %v; want %+v, %d, %v", c.kind, c.answers, out.event, s.calls, out.observed, c.want, c.calls, c.observed)
		}
	}
}

func TestStepStartupGatesLivenessAndReadiness(t *testing.T) {
	for _, kind := range []Kind{Liveness, Readiness} {
		s := &scripted{answers: []answer{ok}}
		// Readiness with period 30 (e2e "ready immediately after startup").
		w := testWorker(kind, v1.Probe{PeriodSeconds: 30}, s)
		for _, d := range []time.Duration{0, 5 * time.Second, 31 * time.Second} {
			out := w.step(context.Background(), stepInput{now: t0.Add(d)})
			if out.probed || !out.wake.IsZero() || out.stop {
				t.Fatalf("%s before start at +%v: %+v; want no probe and no timer", kind, d, out)
			}
		}
		// Startup succeeds at +32s: the probe runs at once, not a period later.
		at := t0.Add(32 * time.Second)
		out := w.step(context.Background(), started(at))
		if !out.probed {
			t.Fatalf("%s did not probe as soon as the container started", kind)
		}
		if !out.wake.Equal(at.Add(30 * time.Second)) {
			t.Fatalf("%s next wake %v, want a period after the first probe", kind, out.wake)
		}
	}
}

func TestStepStartupIgnoresGate(t *testing.T) {
	s := &scripted{answers: []answer{fail}}
	w := testWorker(Startup, v1.Probe{}, s)
	if out := w.step(context.Background(), stepInput{now: t0}); !out.probed {
		t.Fatal("startup probe waited for the start signal")
	}
}

func TestStepStartupInitialDelayAfterGate(t *testing.T) {
	// The gate opens before readiness's initial delay has passed: wait
	// for the delay.
	s := &scripted{answers: []answer{ok}}
	w := testWorker(Readiness, v1.Probe{InitialDelaySeconds: 20}, s)
	out := w.step(context.Background(), started(t0.Add(3*time.Second)))
	if out.probed || !out.wake.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("%+v", out)
	}
}

func TestStepTerminating(t *testing.T) {
	term := stepInput{now: t0, started: true, terminating: true}

	// Liveness: already Success, so nothing published; it stops.
	w := testWorker(Liveness, v1.Probe{}, &scripted{})
	out := w.step(context.Background(), term)
	if out.probed || out.publish || !out.stop {
		t.Fatalf("liveness: %+v", out)
	}

	// Startup that has not succeeded: Success for a quiet shutdown, but
	// no start signal (liveness and readiness stay gated).
	w = testWorker(Startup, v1.Probe{}, &scripted{})
	out = w.step(context.Background(), term)
	if out.probed || !out.publish || out.update.Result != Success || !out.stop || out.started {
		t.Fatalf("startup: %+v", out)
	}

	// A liveness worker counting failures when the pod terminates.
	s := &scripted{answers: []answer{fail, fail}}
	w = testWorker(Liveness, v1.Probe{FailureThreshold: 3}, s)
	now := t0
	for range 2 {
		now = w.step(context.Background(), started(now)).wake
	}
	out = w.step(context.Background(), stepInput{now: now, started: true, terminating: true})
	if out.probed || out.publish || !out.stop {
		t.Fatalf("liveness with failures: %+v", out)
	}

	// Readiness goes on.
	s = &scripted{answers: []answer{ok}}
	w = testWorker(Readiness, v1.Probe{}, s)
	if out = w.step(context.Background(), term); !out.probed || out.stop {
		t.Fatalf("readiness: %+v", out)
	}
}

func TestStepCanceledProbeDecidesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorker(Liveness, Target{StartedAt: t0}, paramsFor(Liveness, &v1.Probe{FailureThreshold: 1}),
		func(context.Context) (outcome, string, error) {
			cancel()
			return outcomeFailure, "context canceled", nil
		})
	out := w.step(ctx, started(t0))
	if !out.canceled || out.publish || out.event.reason != "" || out.observed || w.result != Success || w.streak != 0 {
		t.Fatalf("%+v, worker %+v", out, w)
	}
}

func TestParamsDefaults(t *testing.T) {
	got := paramsFor(Readiness, &v1.Probe{})
	want := params{period: 10 * time.Second, timeout: time.Second, successThreshold: 1, failureThreshold: 3}
	if got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	got = paramsFor(Readiness, &v1.Probe{InitialDelaySeconds: 15, PeriodSeconds: 2, TimeoutSeconds: 5, SuccessThreshold: 2, FailureThreshold: 60})
	want = params{initialDelay: 15 * time.Second, period: 2 * time.Second, timeout: 5 * time.Second, successThreshold: 2, failureThreshold: 60}
	if got != want {
		t.Fatalf("explicit %+v, want %+v", got, want)
	}
	got = paramsFor(Startup, &v1.Probe{InitialDelaySeconds: -1, PeriodSeconds: -1, SuccessThreshold: 4})
	want = params{period: 10 * time.Second, timeout: time.Second, successThreshold: 1, failureThreshold: 3}
	if got != want {
		t.Fatalf("startup %+v, want %+v", got, want)
	}
}

func TestStepDefaultsApplied(t *testing.T) {
	// A zero probe fails three times (default failureThreshold) at 10s
	// intervals (default period) before it is published.
	s := &scripted{answers: []answer{fail, fail, fail}}
	w := testWorker(Liveness, v1.Probe{}, s)
	now := t0
	var outs []stepOutput
	for range 3 {
		out := w.step(context.Background(), started(now))
		outs = append(outs, out)
		now = out.wake
	}
	if outs[0].wake != t0.Add(10*time.Second) || outs[1].wake != t0.Add(20*time.Second) {
		t.Fatalf("wakes %v %v", outs[0].wake, outs[1].wake)
	}
	if outs[1].publish || !outs[2].publish {
		t.Fatalf("published at %v %v %v", outs[0].publish, outs[1].publish, outs[2].publish)
	}
}

func TestKindAndResultNames(t *testing.T) {
	if Readiness.Initial() != Failure || Liveness.Initial() != Success || Startup.Initial() != Unknown {
		t.Fatal("initial results")
	}
	var names []string
	for _, r := range []Result{Unknown, Success, Failure} {
		names = append(names, r.String())
	}
	if strings.Join(names, ",") != "unknown,successful,failed" {
		t.Fatalf("result names %v", names)
	}
}
