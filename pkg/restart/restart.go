// Package restart holds minilet's pure restart decisions: whether a
// container that exited is restarted under the pod's restartPolicy, and how
// long it waits first (the kubelet's crash-loop back-off). Time is passed
// in; nothing here sleeps or starts goroutines.
package restart

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// ShouldRestart reports whether a container that exited with exitCode is
// restarted under policy, with the kubelet's meaning: Always restarts any
// exit, OnFailure a non-zero one, Never none.
func ShouldRestart(policy v1.RestartPolicy, exitCode int32) bool {
	switch policy {
	case v1.RestartPolicyNever:
		return false
	case v1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// The kubelet's back-off constants (pkg/kubelet/kubelet.go).
const (
	DefaultInitial    = 10 * time.Second
	DefaultMax        = 300 * time.Second
	DefaultResetAfter = 10 * time.Minute
)

// Backoff is the crash-loop back-off of one container: the first restart is
// immediate, then Initial, doubling up to Max; a container that ran for
// ResetAfter or longer starts the sequence again.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// DefaultBackoff is the kubelet's: 0, 10s, 20s, 40s, ... 300s.
func DefaultBackoff(max time.Duration) Backoff {
	if max <= 0 {
		max = DefaultMax
	}
	initial := DefaultInitial
	if initial > max {
		initial = max
	}
	return Backoff{Initial: initial, Max: max, ResetAfter: DefaultResetAfter}
}

// State is what Backoff remembers of one container between restarts.
type State struct {
	Restarts int           // restarts since the last reset
	Delay    time.Duration // the delay applied before the last restart
}

// Next returns the delay before restarting a container that started at
// startedAt and finished at finishedAt, and the state to keep.
func (b Backoff) Next(prev State, startedAt, finishedAt time.Time) (time.Duration, State) {
	ran := finishedAt.Sub(startedAt)
	if !startedAt.IsZero() && ran >= b.ResetAfter {
		prev = State{}
	}
	var d time.Duration
	switch {
	case prev.Restarts == 0:
		d = 0
	case prev.Delay == 0:
		d = b.Initial
	default:
		d = prev.Delay * 2
	}
	if d > b.Max {
		d = b.Max
	}
	return d, State{Restarts: prev.Restarts + 1, Delay: d}
}
