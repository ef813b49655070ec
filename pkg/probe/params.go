package probe

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// The kubelet's probe defaults (k8s.io/kubernetes pkg/apis/core/v1
// defaults.go). The manifest package applies them already; the workers
// apply them again so a zero field never means "probe constantly".
const (
	defaultTimeout          = 1 * time.Second
	defaultPeriod           = 10 * time.Second
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// params are a probe's timing and thresholds, defaulted.
type params struct {
	initialDelay     time.Duration
	period           time.Duration
	timeout          time.Duration
	successThreshold int
	failureThreshold int
}

// paramsFor returns the defaulted parameters of a probe of kind k.
func paramsFor(k Kind, p *v1.Probe) params {
	out := params{
		initialDelay:     time.Duration(p.InitialDelaySeconds) * time.Second,
		period:           time.Duration(p.PeriodSeconds) * time.Second,
		timeout:          time.Duration(p.TimeoutSeconds) * time.Second,
		successThreshold: int(p.SuccessThreshold),
		failureThreshold: int(p.FailureThreshold),
	}
	if out.initialDelay < 0 {
		out.initialDelay = 0
	}
	if out.period <= 0 {
		out.period = defaultPeriod
	}
	if out.timeout <= 0 {
		out.timeout = defaultTimeout
	}
	if out.successThreshold <= 0 {
		out.successThreshold = defaultSuccessThreshold
	}
	if out.failureThreshold <= 0 {
		out.failureThreshold = defaultFailureThreshold
	}
	// API validation requires successThreshold 1 for liveness and startup;
	// hold to it here too, since those kinds never recover from Failure.
	if k != Readiness {
		out.successThreshold = 1
	}
	return out
}
