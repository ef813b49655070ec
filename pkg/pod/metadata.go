package pod

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

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
// The pod's downwardAPI files follow at this sync. A pod of the API server
// also takes what the API server lets change in a running pod: its
// ephemeral containers (kubectl debug; new ones start at this sync),
// activeDeadlineSeconds, tolerations, terminationGracePeriodSeconds and the
// images of its containers (the plan restarts the containers whose image
// changed).
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
	if manifest.IsAPIPod(pod) {
		pod.Generation = d.Pod.Generation
		if added := len(d.Pod.Spec.EphemeralContainers) - len(pod.Spec.EphemeralContainers); added > 0 {
			w.log.Info("ephemeral containers added", zap.Int("count", added))
		}
		pod.Spec.EphemeralContainers = slices.Clone(d.Pod.Spec.EphemeralContainers)
		pod.Spec.ActiveDeadlineSeconds = d.Pod.Spec.ActiveDeadlineSeconds
		pod.Spec.Tolerations = slices.Clone(d.Pod.Spec.Tolerations)
		pod.Spec.TerminationGracePeriodSeconds = d.Pod.Spec.TerminationGracePeriodSeconds
		if changed := takeImages(pod, d.Pod); len(changed) > 0 {
			at := w.d.now()
			rec.SpecChangedAt = &at
			w.log.Info("container images changed in the API server; those containers restart", zap.Strings("containers", changed))
		}
	}
	rec.Pod, rec.Hash, rec.File = pod, d.Hash, d.File
	if err := saveRecord(w.paths, rec); err != nil {
		// The next daemon reads the old record and updates it again.
		w.log.Warn("cannot save the pod's new labels and annotations", zap.Error(err))
	}
	w.mu.Lock()
	w.rec.Pod, w.rec.Hash, w.rec.File, w.rec.SpecChangedAt = rec.Pod, rec.Hash, rec.File, rec.SpecChangedAt
	w.mu.Unlock()
}

// takeImages gives pod the images of from's containers (same names: the
// API server changes nothing else) and names the containers whose image
// changed.
func takeImages(pod, from *v1.Pod) []string {
	var changed []string
	eachNamesake(pod, from, func(c, src *v1.Container) {
		if src.Image != c.Image {
			c.Image = src.Image
			changed = append(changed, c.Name)
		}
	})
	return changed
}

// eachNamesake calls f with each init and app container of pod and the
// container of the same name in from, if from has one.
func eachNamesake(pod, from *v1.Pod, f func(c, src *v1.Container)) {
	pair := func(to, src []v1.Container) {
		byName := map[string]*v1.Container{}
		for i := range src {
			byName[src[i].Name] = &src[i]
		}
		for i := range to {
			if s, ok := byName[to[i].Name]; ok {
				f(&to[i], s)
			}
		}
	}
	pair(pod.Spec.InitContainers, from.Spec.InitContainers)
	pair(pod.Spec.Containers, from.Spec.Containers)
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

// recordEdit is a change of the pod's record asked from outside the loop
// (restart pod, eviction), waiting for the loop to save it; done gets the
// outcome.
type recordEdit struct {
	what  string           // for the error: "the restart of the pod"
	edit  func(*podRecord) // the change
	saved func()           // after the record is saved: events, logs
	done  chan error
}

// requestEdit asks the loop to change the pod's record and waits until
// the change is saved (so a daemon killed then still carries it out).
func (w *worker) requestEdit(ctx context.Context, e *recordEdit) error {
	e.done = make(chan error, 1)
	w.mu.Lock()
	w.pendingEdits = append(w.pendingEdits, e)
	w.mu.Unlock()
	w.wake()
	select {
	case err := <-e.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("the pod's worker stopped")
	}
}

// applyEdits saves the pending record edits; the plan then acts on them.
func (w *worker) applyEdits() {
	w.mu.Lock()
	edits := w.pendingEdits
	w.pendingEdits = nil
	rec := w.rec
	w.mu.Unlock()
	for _, e := range edits {
		e.edit(&rec)
		if err := saveRecord(w.paths, rec); err != nil {
			e.done <- fmt.Errorf("record %s: %w", e.what, err)
			rec = w.record()
			continue
		}
		w.mu.Lock()
		e.edit(&w.rec)
		w.mu.Unlock()
		e.saved()
		e.done <- nil
	}
}

// requestRestart asks the loop to restart every container of the pod.
func (w *worker) requestRestart(ctx context.Context) error {
	at := w.d.now()
	return w.requestEdit(ctx, &recordEdit{
		what: "the restart of the pod",
		edit: func(r *podRecord) { r.RestartedAt = &at },
		saved: func() {
			w.events.record(v1.EventTypeNormal, "Restarting", "Restarting every container of the pod: requested with minilet restart pod", "")
			w.log.Info("restarting the pod's containers on request")
		},
	})
}
