package probe

import (
	"context"
	"net"
	"syscall"
	"time"
)

// newDialer returns the dialer of all network probes. It sets SO_LINGER to
// one second, as the kubelet's ProbeDialer (kubernetes#89898, #115143):
// without it, a node that probes many containers every second collects
// thousands of sockets in TIME-WAIT and runs out of ephemeral ports. Like
// the kubelet, a failure to set the option does not fail the dial.
func newDialer() *net.Dialer {
	return &net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				_ = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 1})
			})
		},
	}
}

// dialGrace is how long a connection of an HTTP probe may outlive the
// probe's deadline.
const dialGrace = 500 * time.Millisecond

// probeDeadlineKey carries a probe's deadline in a request's context to
// dialProbe.
type probeDeadlineKey struct{}

func withProbeDeadline(ctx context.Context, deadline time.Time) context.Context {
	return context.WithValue(ctx, probeDeadlineKey{}, deadline)
}

// dialProbe dials for the HTTP transport, bounded by the probe's deadline.
//
// net/http lets a dial go on after its request is canceled (the dial's
// context keeps the request's values but not its cancellation), so the
// connection can serve a later request. Probes never reuse connections,
// and a target that drops SYNs or stalls the TLS handshake would then hold
// a goroutine and a socket for the kernel's connect timeout (about two
// minutes) or TLSHandshakeTimeout, per probe: the kubelet's transport does
// exactly that. Here the dial ends shortly after the probe's deadline, and
// the connection gets that deadline too, which bounds the TLS handshake;
// the connection serves one request that must end by then anyway. The
// grace lets the request's own timeout fire first, so a timed-out probe
// reads as the kubelet's ("context deadline exceeded (Client.Timeout
// exceeded while awaiting headers)") rather than "i/o timeout".
func dialProbe(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		deadline, ok := ctx.Value(probeDeadlineKey{}).(time.Time)
		if !ok {
			return d.DialContext(ctx, network, addr)
		}
		deadline = deadline.Add(dialGrace)
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(deadline); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}
