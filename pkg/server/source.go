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

// ManifestErrorSource tells which manifest files could not be used, and
// why. The API lists them, and
// the CLI prints them as warnings, so an operator sees a typo without
// reading the daemon's log.
type ManifestErrorSource interface {
	// ManifestErrors returns one line per bad file: "<file>: <problem>".
	ManifestErrors() []string
}

// ManifestErrorList is the answer of /api/v1/manifesterrors.
type ManifestErrorList struct {
	Items []string `json:"items"`
}
