package probe

import (
	"context"
	"fmt"
	"time"
)

// Event types and reasons the workers record, as the kubelet's.
const (
	EventTypeWarning   = "Warning"
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// stepInput is what a worker's step knows of the world besides its own
// state: the time, and the two signals of the container instance.
type stepInput struct {
	now         time.Time
	started     bool // the startup probe succeeded, or there is none
	terminating bool // the pod is terminating
}

// event is an event to record; an empty reason means none.
type event struct {
	eventType, reason, message string
}

// stepOutput is what the run loop does after a step.
type stepOutput struct {
	probed   bool   // a probe ran (or was tried and erred)
	observed bool   // the probe gave a result: report it to the Observer
	result   Result // that result
	canceled bool   // the probe was cut short by its context; nothing was decided
	event    event
	publish  bool // send update: the result changed
	update   Update
	started  bool // the startup probe succeeded: let liveness and readiness run
	stop     bool // the worker has nothing more to do for this instance
	// wake is when to step again; zero means only on a signal (started,
	// terminating).
	wake time.Time
}

// step makes every decision of one tick, as the kubelet's doProbe, and
// runs the probe when one is due. It touches nothing but the worker's
// step state and calls nothing but w.probe, so tests drive it directly
// with made-up times and probe functions.
func (w *worker) step(ctx context.Context, in stepInput) stepOutput {
	var out stepOutput
	switch {
	case w.onHold:
		// A published liveness failure, or a startup probe that reached
		// a threshold: wait for the consumer to replace the instance.
		out.stop = true
		return out
	case in.terminating && w.kind != Readiness:
		// The kubelet sets liveness and startup to Success when a pod is
		// deleted, "to ensure quiet shutdown", and stops them. It does so
		// on the worker's next tick, up to a period later; Manager wakes
		// the worker at once and cancels a probe in flight.
		w.onHold = true
		out.stop = true
		w.setResult(&out, Success, "")
		return out
	case w.kind != Startup && !in.started:
		// Startup gates liveness and readiness; the start signal wakes us.
		return out
	case in.now.Before(w.next):
		// Not due: at StartedAt + initialDelay exactly (the kubelet checks
		// whole seconds elapsed on its ticks), then every period.
		out.wake = w.next
		return out
	}

	o, msg, err := probeWithRetries(ctx, w.probe)
	// The next probe is one period after this one started, so a probe
	// that is late (gated, or slower than its period) does not make the
	// following ones run back to back.
	w.next = in.now.Add(w.params.period)
	out.wake = w.next
	out.probed = true
	if ctx.Err() != nil {
		// Cut short by RemoveContainer or Terminating: not the target's
		// fault, and the caller is about to stop us.
		out.canceled = true
		return out
	}
	if err != nil {
		// The prober itself failed: record it, but the result does not
		// count towards a threshold (the kubelet's behaviour).
		out.event = event{EventTypeWarning, ReasonUnhealthy,
			fmt.Sprintf("%s probe errored and resulted in unknown state: %s", w.kind.title(), err)}
		return out
	}

	var r Result
	switch o {
	case outcomeSuccess:
		r = Success
	case outcomeWarning:
		r = Success
		out.event = event{EventTypeWarning, ReasonProbeWarning, fmt.Sprintf("%s probe warning: %s", w.kind.title(), msg)}
	case outcomeFailure:
		r = Failure
		out.event = event{EventTypeWarning, ReasonUnhealthy, fmt.Sprintf("%s probe failed: %s", w.kind.title(), msg)}
	default:
		r = Failure // unknown without an error counts as a failure
	}
	out.observed = true
	out.result = r

	if r == w.last {
		w.streak++
	} else {
		w.last = r
		w.streak = 1
	}
	if (r == Failure && w.streak < w.params.failureThreshold) || (r == Success && w.streak < w.params.successThreshold) {
		return out // below threshold: the result stands
	}
	if r == Success {
		msg = ""
	}
	w.setResult(&out, r, msg)

	if (w.kind == Liveness && r == Failure) || w.kind == Startup {
		// The consumer kills the container on a liveness or startup
		// failure, and a new instance gets new workers; a startup probe
		// that succeeded has done its job. Either way, stop probing.
		w.onHold = true
		out.stop = true
		out.wake = time.Time{}
		out.started = w.kind == Startup && r == Success
	}
	return out
}

// setResult records r as the worker's result and publishes it if it
// changed.
func (w *worker) setResult(out *stepOutput, r Result, msg string) {
	if r == w.result {
		return
	}
	w.result = r
	out.publish = true
	out.update = Update{Target: w.target, Kind: w.kind, Result: r, Message: msg}
}
