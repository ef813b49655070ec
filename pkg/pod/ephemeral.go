package pod

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// InvalidError is a request the API server would refuse as invalid
// (422), with the field errors.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Invalid marks the error as the client's (the API answers 422).
func (e *InvalidError) Invalid() bool { return true }

// ErrNotRunning: the pod is stopping, finished or not started.
var ErrNotRunning = errors.New("pod is not running")

// SetEphemeralContainers replaces the pod's list of ephemeral containers
// with list, as an update of the ephemeralcontainers subresource: those
// there must stay unchanged, new ones are defaulted, checked and started
// once in the running pod (minilet debug). They live in the pod's
// record, so a restarted daemon knows them; its manifest never holds
// them. It returns the pod as it is then.
func (m *Manager) SetEphemeralContainers(ctx context.Context, namespace, name string, list []v1.EphemeralContainer) (v1.Pod, error) {
	m.mu.Lock()
	w := m.active[namespace+"/"+name]
	m.mu.Unlock()
	if w == nil {
		return v1.Pod{}, fmt.Errorf("%w: pods %q not found", ErrPodNotFound, name)
	}
	switch {
	case w.isTerminating():
		return v1.Pod{}, fmt.Errorf("%w: pod %q is being deleted", ErrNotRunning, name)
	case w.terminal():
		return v1.Pod{}, fmt.Errorf("%w: pod %q has finished; its containers run no more", ErrNotRunning, name)
	case w.blockedBy() != nil:
		return v1.Pod{}, fmt.Errorf("%w: pod %q was not admitted to run", ErrNotRunning, name)
	}
	list = slices.Clone(list)
	for i := range list {
		manifest.DefaultEphemeral(&list[i])
	}
	if err := manifest.ValidateEphemeral(w.record().Pod, list); err != nil {
		return v1.Pod{}, &InvalidError{Err: err}
	}
	added := len(list) - len(w.record().Pod.Spec.EphemeralContainers)
	err := w.requestEdit(ctx, &recordEdit{
		what: "the pod's ephemeral containers",
		edit: func(r *podRecord) {
			pod := r.Pod.DeepCopy()
			pod.Spec.EphemeralContainers = list
			r.Pod = pod
		},
		saved: func() {
			if added > 0 {
				w.log.Info("ephemeral containers added", zap.Int("count", added))
			}
		},
	})
	if err != nil {
		return v1.Pod{}, err
	}
	return w.snapshot(), nil
}
