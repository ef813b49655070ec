package pod

import (
	"context"
	"errors"
	"maps"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
)

// maxPasses bounds the observe → plan → apply passes of one sync; a plan
// that still has steps after them is carried on at the next wake-up.
const maxPasses = 12

// sync moves the pod toward its desired state: it observes what the
// runtime holds, plans (a pure function of that and of what the worker
// remembers), applies the plan, and observes again until a plan has
// nothing left to do. It returns when it wants to be woken again (0: only
// on events).
func (w *worker) sync(ctx context.Context) time.Duration {
	w.applyDesiredMeta()
	w.applyAllocation()
	w.applyEdits()
	terminating := w.isTerminating()
	if terminating {
		if w.d.prober != nil {
			w.d.prober.Terminating(string(w.record().Pod.UID))
		}
		w.setStatus(w.terminatingStatus())
	} else if b := w.blockedBy(); b != nil {
		w.setStatus(w.blockedStatus(b))
		return 0
	}
	var (
		o    observed
		err  error
		wake time.Duration
		next *observed // what the last apply predicts, instead of a look
		// volumes is what the last plan knew of the pod's object volumes.
		volumes volumeInput
	)
	if w.fresh {
		// A pod this daemon just added has nothing in the runtime yet
		// (its pod.json did not exist, see adopt): no need to ask.
		e := emptyObserved()
		e.predicted = true
		next = &e
		w.fresh = false
		w.lookedDeep = true // nothing can be left over from an earlier run
	}
	for pass := 0; ; pass++ {
		if next != nil {
			o, next = *next, nil
		} else {
			deep := terminating || !w.lookedDeep
			if o, err = w.observe(ctx, deep); err != nil {
				w.log.Warn("cannot list the pod's containers; will retry", zap.Error(err))
				return retryDelay
			}
			if deep {
				w.lookedDeep = true
			}
		}
		rec := w.record()
		now := w.d.now()
		w.noteExits(rec, o, now)
		in := w.planInput(rec, o, terminating, now)
		volumes = in.volumes
		p := plan(in)
		wake = p.wake
		if len(p.steps) == 0 {
			break
		}
		if pass == maxPasses {
			w.log.Warn("pod did not settle within one sync; going on shortly", zap.Int("passes", pass))
			wake = minPositive(wake, retryDelay)
			break
		}
		done, err := w.apply(ctx, rec, o, p)
		if err != nil {
			return w.applyFailed(rec, o, err)
		}
		if w.isTorndown() {
			return 0
		}
		if done.sandbox != nil && o.predicted {
			// A new pod: its sandbox is all the runtime holds.
			e := emptyObserved()
			e.sandbox, e.predicted = done.sandbox, true
			next = &e
		}
	}
	w.forgetKills(o)
	if terminating {
		return retryDelay
	}
	rec := w.record()
	w.reportVolumeError(volumes.err)
	w.syncProbes(ctx, rec.Pod, o)
	st := w.buildStatus(rec, o, nil)
	w.setStatus(st)
	w.noteResizeDone(rec.Pod, st)
	w.observeStart(rec.Pod, st)
	return wake
}

// applyFailed reports a plan that could not be carried out; the next sync
// observes again and plans from whatever it left.
func (w *worker) applyFailed(rec podRecord, o observed, err error) time.Duration {
	w.lookedDeep = false // look for snapshots a failed step may have left
	var sbErr errSandbox
	if errors.As(err, &sbErr) {
		w.events.record(v1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error(), "")
		w.log.Error("cannot create the pod sandbox; will retry", zap.Error(err))
		if !w.isTerminating() {
			w.setStatus(w.buildStatus(w.record(), o, err))
		}
		return sandboxRetryDelay
	}
	if w.isTerminating() {
		w.log.Warn("cannot remove all of the pod; will retry", zap.Error(err))
	} else {
		w.log.Warn("cannot bring the pod to its desired state; will retry", zap.Error(err))
	}
	return retryDelay
}

// planInput gathers what plan decides from.
func (w *worker) planInput(rec podRecord, o observed, terminating bool, now time.Time) planInput {
	in := planInput{
		pod: rec.Pod, complete: len(rec.PodIPs) > 0, obs: o, terminating: terminating, now: now,
		probes: w.probeInfos(rec.Pod, o), restartAt: rec.restartAt(), specChangedAt: rec.specChangedAt(),
	}
	if terminating {
		in.grace = w.terminationGrace()
	} else if ev := rec.Evicted; ev != nil {
		in.evicted, in.grace = true, time.Duration(ev.GracePeriod)*time.Second
	} else {
		in.volumes = w.volumeInputs(rec.Pod)
		if d := rec.Pod.Spec.ActiveDeadlineSeconds; d != nil {
			in.deadline = w.startTime(rec).Add(time.Duration(*d) * time.Second)
			in.grace = w.terminationGrace()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	in.gates = maps.Clone(w.gates)
	in.failures = maps.Clone(w.lastErr)
	in.killing = maps.Clone(w.killReason)
	in.resizeFailures = maps.Clone(w.resizeFailures)
	in.volumesKept = !w.volumesRemoved
	return in
}

// startTime is when the pod started on this node, the start of its
// activeDeadlineSeconds: when the manager first took it (kept in its
// record, so a daemon restart does not start the clock again).
func (w *worker) startTime(rec podRecord) time.Time {
	if t := rec.Pod.CreationTimestamp; !t.IsZero() {
		return t.Time
	}
	return w.firstSeen
}

// forgetKills drops the kill reasons of containers that no longer exist.
func (w *worker) forgetKills(o observed) {
	if o.predicted {
		return
	}
	live := map[string]bool{}
	for _, list := range o.byName {
		for _, c := range list {
			live[c.ID] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.killReason {
		if !live[id] {
			delete(w.killReason, id)
		}
	}
	for id := range w.termMessages {
		if !live[id] {
			delete(w.termMessages, id)
		}
	}
}

// observeStart reports, once, how long the pod took from its manifest
// being seen to all its containers running.
func (w *worker) observeStart(pod *v1.Pod, st v1.PodStatus) {
	if w.startCounted || st.Phase != v1.PodRunning {
		return
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil {
			return
		}
	}
	w.startCounted = true
	took := w.d.now().Sub(w.firstSeen)
	w.d.obs.ObservePodStart(took)
	w.log.Info("pod running", zap.Duration("startedIn", took))
}

// isSidecar reports whether c is a restartable init container (a sidecar):
// restartPolicy Always on an init container.
func isSidecar(c *v1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

// restartPolicyOf is the policy that decides c's restarts: a sidecar's own
// Always, else the pod's.
func restartPolicyOf(pod *v1.Pod, c *v1.Container) v1.RestartPolicy {
	if isSidecar(c) {
		return v1.RestartPolicyAlways
	}
	return pod.Spec.RestartPolicy
}

func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	case a < b:
		return a
	}
	return b
}

// Retry delays of steps that failed for reasons outside the pod.
const (
	retryDelay        = 2 * time.Second
	sandboxRetryDelay = 5 * time.Second
	// volumeRetryDelay is how often a pod waiting for an object looks
	// again even if no change of the manifest directory wakes it.
	volumeRetryDelay = 10 * time.Second
)
