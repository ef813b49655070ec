package probe

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
)

// outcome is what a handler found out about its target, as the kubelet's
// probe.Result. A warning counts as a success but records a ProbeWarning
// event.
type outcome int

const (
	outcomeUnknown outcome = iota
	outcomeSuccess
	outcomeWarning
	outcomeFailure
)

// probeFunc runs a probe once and returns its outcome and output (the
// reason of a failure). An error means the prober itself could not probe
// (a port name that does not resolve, a runtime that does not answer); a
// target that is down or slow is a failure, never an error.
type probeFunc func(ctx context.Context) (outcome, string, error)

// maxProbeRetries is how often a probe that errs is tried in one tick
// before its result is thrown away (the kubelet's maxProbeRetries).
const maxProbeRetries = 3

// maxOutput caps what a probe keeps of a command's output or a response
// body (the kubelet's 10 KiB).
const maxOutput = 10 << 10

// prober builds the probe functions of the handlers. It is shared by all
// workers of a Manager.
type prober struct {
	exec      Execer
	transport *probeTransport
	userAgent string
}

func newProber(exec Execer, userAgent string) *prober {
	return &prober{exec: exec, transport: newProbeTransport(), userAgent: userAgent}
}

// probeFor returns the function that runs spec's handler against t. The
// work that does not change between runs (the URL, a named port) is done
// once here.
func (p *prober) probeFor(t Target, c *v1.Container, spec *v1.Probe, timeout time.Duration) probeFunc {
	switch {
	case spec.Exec != nil:
		return newExecProbe(p.exec, t.ContainerID, spec.Exec.Command, timeout, execBackstop)
	case spec.HTTPGet != nil:
		return newHTTPProbe(p.transport, p.userAgent, spec.HTTPGet, c, t.PodIP, timeout)
	case spec.TCPSocket != nil:
		return newTCPProbe(spec.TCPSocket, c, t.PodIP, timeout)
	case spec.GRPC != nil:
		return newGRPCProbe(spec.GRPC, t.PodIP, p.userAgent, timeout)
	}
	err := fmt.Errorf("missing probe handler for %s/%s:%s", t.Namespace, t.Pod, t.Container)
	return func(context.Context) (outcome, string, error) { return outcomeUnknown, "", err }
}

// probeWithRetries runs probe until it does not err, at most
// maxProbeRetries times, as the kubelet's runProbeWithRetries.
func probeWithRetries(ctx context.Context, probe probeFunc) (outcome, string, error) {
	var (
		o   outcome
		out string
		err error
	)
	for range maxProbeRetries {
		o, out, err = probe(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	return o, out, err
}
