package probe

import (
	"context"
	"net"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
)

// newTCPProbe returns a probe that opens a TCP connection to a.host (else
// podIP) at a.port within timeout and closes it: a connection is a
// success (the kubelet's DoTCPProbe).
func newTCPProbe(a *v1.TCPSocketAction, c *v1.Container, podIP string, timeout time.Duration) probeFunc {
	port, err := resolvePort(a.Port, c)
	if err != nil {
		return func(context.Context) (outcome, string, error) { return outcomeUnknown, "", err }
	}
	host := a.Host
	if host == "" {
		host = podIP
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := newDialer()
	d.Timeout = timeout
	return func(ctx context.Context) (outcome, string, error) {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return outcomeFailure, err.Error(), nil
		}
		_ = conn.Close()
		return outcomeSuccess, "", nil
	}
}
