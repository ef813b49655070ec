package probe

import (
	"context"
	"time"

	"github.com/minilet/minilet/pkg/clock"
	"go.uber.org/zap"
)

// worker probes one container instance for one probe kind. Its state is
// only touched by its own goroutine (or a test calling step).
type worker struct {
	kind   Kind
	target Target
	params params
	probe  probeFunc

	// Step state.
	result Result    // the published result; starts at kind.Initial()
	last   Result    // the result of the last probe run
	streak int       // how many runs in a row had result last
	next   time.Time // when the next probe is due
	onHold bool      // nothing more to do for this instance

	// Run loop collaborators.
	inst     *instance
	clock    clock.Clock
	events   EventRecorder
	observer Observer
	out      chan<- Update
	log      *zap.Logger
}

func newWorker(kind Kind, t Target, p params, probe probeFunc) *worker {
	return &worker{
		kind:   kind,
		target: t,
		params: p,
		probe:  probe,
		result: kind.Initial(),
		next:   t.StartedAt.Add(p.initialDelay),
	}
}

// run is the worker's goroutine: step, carry out what the step decided,
// wait for the time it asked for or a signal, until ctx ends or the step
// says stop.
func (w *worker) run(ctx context.Context) {
	// Liveness and startup probes are cut short when the pod starts
	// terminating; readiness goes on until the container is removed.
	probeCtx := ctx
	if w.kind != Readiness {
		probeCtx = w.inst.probeCtx
	}
	for {
		in := stepInput{now: w.clock.Now(), started: isClosed(w.inst.started), terminating: isClosed(w.inst.terminating)}
		out := w.step(probeCtx, in)
		if ctx.Err() != nil {
			return
		}
		if out.canceled {
			continue // terminating: the next step stops the worker
		}
		if ce := w.log.Check(zap.DebugLevel, "probed"); ce != nil && out.probed {
			ce.Write(zap.Bool("counted", out.observed), zap.Stringer("result", out.result))
		}
		if out.observed && w.observer != nil {
			w.observer.ObserveProbe(w.target, w.kind, out.result, w.clock.Now().Sub(in.now))
		}
		if out.event.reason != "" && w.events != nil {
			w.events.Event(w.target, out.event.eventType, out.event.reason, out.event.message)
		}
		if out.publish {
			w.log.Info("probe result changed", zap.Stringer("result", out.update.Result), zap.String("message", out.update.Message))
			select {
			case w.out <- out.update:
			case <-ctx.Done():
				return
			}
		}
		if out.started {
			// After the startup Update is sent, so the consumer sees
			// Started before any readiness result.
			w.inst.markStarted()
		}
		if out.stop {
			return
		}
		if !w.wait(ctx, out.wake, in) {
			return
		}
	}
}

// wait blocks until wake (if not zero), a signal the worker has not seen
// yet, or the end of ctx, which it reports as false.
func (w *worker) wait(ctx context.Context, wake time.Time, seen stepInput) bool {
	var timer <-chan time.Time
	if !wake.IsZero() {
		d := wake.Sub(w.clock.Now())
		if d <= 0 {
			return ctx.Err() == nil
		}
		t := w.clock.NewTimer(d)
		defer t.Stop()
		timer = t.C()
	}
	var started, terminating <-chan struct{}
	if !seen.started && w.kind != Startup {
		started = w.inst.started
	}
	if !seen.terminating && w.kind != Readiness {
		terminating = w.inst.terminating
	}
	select {
	case <-ctx.Done():
		return false
	case <-timer:
	case <-started:
	case <-terminating:
	}
	return true
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
