package server

import (
	"context"

	v1 "k8s.io/api/core/v1"
)

// PodSource is what the server needs from the pod manager.
type PodSource interface {
	// Pods returns every pod with its status filled in.
	Pods() []v1.Pod
	// Events returns the events of one pod, oldest first.
	Events(namespace, name string) []v1.Event
}

// HealthChecker reports whether the daemon is healthy. It is optional: a
// nil HealthChecker is always healthy.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}
