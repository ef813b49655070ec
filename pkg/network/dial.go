package network

import (
	"context"
	"fmt"
	"net"
	"runtime"

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
// netnsPath. The thread moves back after, or, if it cannot, is retired
// with its goroutine (as in mountNewNetns).
func inNetns(netnsPath string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open network namespace %s: %w", netnsPath, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", netnsPath, err)
			return
		}
		err = f()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
