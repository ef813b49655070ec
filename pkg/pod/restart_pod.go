package pod

import (
	"context"
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
)

// ErrPodNotFound: no pod of that namespace and name.
var ErrPodNotFound = errors.New("pod not found")

// ErrCannotRestart: the pod is in no state to restart (finishing, finished,
// not admitted).
var ErrCannotRestart = errors.New("pod cannot be restarted")

// RestartPod stops and starts every container of the pod namespace/name in
// its sandbox (same UID, same IP), init containers first as at its start:
// restartCount + 1, lastState reason Restarted. It returns once the
// request is recorded; the pod's worker carries it out, after a daemon
// restart too. Users ask for it instead of editing the file
// (kubernetes#128524).
func (m *Manager) RestartPod(ctx context.Context, namespace, name string) error {
	m.mu.Lock()
	w := m.active[namespace+"/"+name]
	m.mu.Unlock()
	if w == nil {
		return fmt.Errorf("%w: pods %q not found", ErrPodNotFound, name)
	}
	w.mu.Lock()
	terminating, blocked, phase := w.terminating, w.blocked, w.status.Phase
	w.mu.Unlock()
	switch {
	case terminating:
		return fmt.Errorf("%w: pod %q is being deleted", ErrCannotRestart, name)
	case blocked != nil:
		return fmt.Errorf("%w: pod %q was not admitted to run (%s)", ErrCannotRestart, name, blocked.reason)
	case phase == v1.PodSucceeded || phase == v1.PodFailed:
		return fmt.Errorf("%w: pod %q has finished (phase %s) and runs no more, as on the kubelet; change its manifest to run a new one", ErrCannotRestart, name, phase)
	}
	return w.requestRestart(ctx)
}
