package pod

import (
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
)

// noteExits gives every container whose latest attempt exited and will be
// restarted its crash-loop gate, computed once per exit: the back-off
// state goes on from the previous gate (or, after a daemon restart, from
// the restart count).
func (w *worker) noteExits(rec podRecord, o observed, now time.Time) {
	pod := rec.Pod
	restartAt := rec.restartAt()
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cur := current(o, c.Name)
		if cur == nil || cur.State != runtime.StateExited || beforeRestart(cur, restartAt) {
			continue // a restart's stop is no crash
		}
		if isSidecar(c) || (cur.ExitCode != 0 && pod.Spec.RestartPolicy != v1.RestartPolicyNever) {
			w.gateFor(c.Name, cur, now)
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cur := current(o, c.Name)
		if cur != nil && cur.State == runtime.StateExited && restart.ShouldRestart(pod.Spec.RestartPolicy, cur.ExitCode) && !beforeRestart(cur, restartAt) {
			w.gateFor(c.Name, cur, now)
		}
	}
}

// gateFor returns the crash-loop gate for the exit of cur, computing it the
// first time this exit is seen.
func (w *worker) gateFor(name string, cur *runtime.Container, now time.Time) gate {
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok := w.gates[name]
	if ok && g.forID == cur.ID {
		return g
	}
	st := g.st
	if !ok && restartCountOf(cur) > 0 {
		// Adopted after a daemon restart: the back-off continues.
		st = restart.State{Restarts: restartCountOf(cur)}
	}
	finished := cur.FinishedAt
	if finished.IsZero() {
		finished = now
	}
	delay, st := w.d.backoff.Next(st, cur.StartedAt, finished)
	g = gate{forID: cur.ID, due: finished.Add(delay), st: st}
	w.gates[name] = g
	if now.Before(g.due) {
		w.events.record(v1.EventTypeWarning, "BackOff", "Back-off restarting failed container "+name+" in pod "+w.rec.Pod.Name, name)
		w.log.Info("container exited; restarting after back-off", zap.String("container", name),
			zap.Int32("exitCode", cur.ExitCode), zap.Duration("backOff", g.due.Sub(now)))
	}
	return g
}
