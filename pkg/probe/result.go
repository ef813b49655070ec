package probe

import (
	"time"
)

// Kind is a probe kind.
type Kind string

// The probe kinds a container spec may define.
const (
	Liveness  Kind = "liveness"
	Readiness Kind = "readiness"
	Startup   Kind = "startup"
)

// title is the kind as the kubelet writes it in event messages.
func (k Kind) title() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	}
	return "UNKNOWN"
}

// Initial is the result a probe of this kind has before it first reaches a
// threshold, as the kubelet: readiness Failure, liveness Success, startup
// Unknown. It is not published as an Update; consumers start from it.
func (k Kind) Initial() Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	}
	return Unknown
}

// Result is the outcome of a probe as the pod worker sees it.
type Result int

// The results a probe may have.
const (
	Unknown Result = iota
	Success
	Failure
)

// String returns the kubelet's metric label value for r.
func (r Result) String() string {
	switch r {
	case Success:
		return "successful"
	case Failure:
		return "failed"
	}
	return "unknown"
}

// Target says which container instance a probe is for and how to reach it.
type Target struct {
	PodUID, Namespace, Pod, Container string
	// ContainerID is the runtime container ID of this instance.
	ContainerID string
	// PodIP is where httpGet, tcpSocket and grpc connect: the pod IP, or
	// the host IP for hostNetwork pods.
	PodIP string
	// StartedAt is when this instance started; initialDelaySeconds counts
	// from here.
	StartedAt time.Time
}

// Update is a probe result that changed. Message says why for a Failure
// (the probe's output); it is empty otherwise.
type Update struct {
	Target  Target
	Kind    Kind
	Result  Result
	Message string
}
