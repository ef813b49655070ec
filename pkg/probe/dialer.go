package probe

import (
	"net"
	"syscall"
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
