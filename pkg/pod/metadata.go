package pod

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/devices"
	"github.com/minilet/minilet/pkg/manifest"
)

// setDesiredMeta asks the worker to take d's labels, annotations, hash and
// file in place; the worker's loop applies it (it alone writes the
// record).
func (w *worker) setDesiredMeta(d manifest.Pod) {
	w.mu.Lock()
	w.pendingMeta = &d
	w.mu.Unlock()
	w.wake()
}

// applyDesiredMeta carries out setDesiredMeta: the record keeps its UID
// and everything it runs, with the new labels, annotations, hash and file.
// The pod's downwardAPI files follow at this sync.
func (w *worker) applyDesiredMeta() {
	w.mu.Lock()
	d := w.pendingMeta
	w.pendingMeta = nil
	rec := w.rec
	w.mu.Unlock()
	if d == nil {
		return
	}
	pod := rec.Pod.DeepCopy()
	pod.Labels = maps.Clone(d.Pod.Labels)
	pod.Annotations = maps.Clone(d.Pod.Annotations)
	// The config hash names the file's version, the UID stays the pod's.
	pod.Annotations[manifest.ConfigHashAnnotation] = d.Hash
	rec.Pod, rec.Hash, rec.File = pod, d.Hash, d.File
	if err := saveRecord(w.paths, rec); err != nil {
		// The next daemon reads the old record and updates it again.
		w.log.Warn("cannot save the pod's new labels and annotations", zap.Error(err))
	}
	w.mu.Lock()
	w.rec.Pod, w.rec.Hash, w.rec.File = rec.Pod, rec.Hash, rec.File
	w.mu.Unlock()
}

// devices is what extended resources the pod holds (nil: none).
func (w *worker) devices() *devices.Assignment {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec.Devices
}

// setDevices gives the pod its extended resources before it starts (its
// record is saved with them when its sandbox is made).
func (w *worker) setDevices(a *devices.Assignment) {
	w.mu.Lock()
	w.rec.Devices = a
	w.mu.Unlock()
}

// terminal reports whether the pod has Succeeded or Failed: its containers
// will not run again.
func (w *worker) terminal() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status.Phase == v1.PodSucceeded || w.status.Phase == v1.PodFailed
}

// restartRequest is a `minilet restart pod` waiting for the loop to record
// it; done gets the outcome.
type restartRequest struct {
	at   time.Time
	done chan error
}

// requestRestart asks the loop to restart every container of the pod and
// waits until the request is in the pod's record (so a daemon killed then
// still carries it out).
func (w *worker) requestRestart(ctx context.Context) error {
	req := &restartRequest{at: w.d.now(), done: make(chan error, 1)}
	w.mu.Lock()
	w.pendingRestart = req
	w.mu.Unlock()
	w.wake()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("the pod's worker stopped")
	}
}

// applyRestartRequest records a pending restart request in the pod's
// record; the plan then stops and starts the containers.
func (w *worker) applyRestartRequest() {
	w.mu.Lock()
	req := w.pendingRestart
	w.pendingRestart = nil
	rec := w.rec
	w.mu.Unlock()
	if req == nil {
		return
	}
	at := req.at
	rec.RestartedAt = &at
	if err := saveRecord(w.paths, rec); err != nil {
		req.done <- fmt.Errorf("record the restart of the pod: %w", err)
		return
	}
	w.mu.Lock()
	w.rec.RestartedAt = &at
	w.mu.Unlock()
	w.events.record(v1.EventTypeNormal, "Restarting", "Restarting every container of the pod: requested with minilet restart pod", "")
	w.log.Info("restarting the pod's containers on request")
	req.done <- nil
}
