package network

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// DialInNetns connects to addr over network ("tcp", "tcp4", ...) from
// inside the network namespace at netnsPath (a netns file, or
// /proc/<pid>/ns/net): what a pod's port-forward needs to reach a port
// the pod listens on only on its loopback. The socket is made inside the
// namespace and stays the namespace's for its whole life.
func DialInNetns(ctx context.Context, netnsPath, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(netnsPath, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// inNetns runs f on a thread moved into the network namespace at
// netnsPath (see switchNetns).
func inNetns(netnsPath string, f func() error) error {
	target, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", netnsPath, err)
	}
	defer unix.Close(target)
	return switchNetns(func() error {
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter network namespace %s: %w", netnsPath, err)
		}
		return nil
	}, func(string) error { return f() })
}
