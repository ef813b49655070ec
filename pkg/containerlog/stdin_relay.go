package containerlog

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// Stdin is a container's stdin as the log driver holds it: the fifo the
// shim reads into the container's terminal, and the unix socket attach
// clients write to.
type Stdin struct {
	FIFO, Socket string
	// Once closes stdin when the first client leaves (stdinOnce).
	Once bool
}

// stdinRelay holds the writing end of the container's stdin fifo for as
// long as the driver lives (so the container does not read end-of-file
// while minilet restarts) and copies what attach clients send into it,
// one client at a time.
type stdinRelay struct {
	mu   sync.Mutex // one client at a time
	fifo *os.File
	ln   net.Listener
	once bool
	path string
	stop sync.Once
}

// startStdinRelay opens the fifo (the shim's reader waits for it) and
// the socket, and serves clients until close.
func startStdinRelay(s Stdin) (*stdinRelay, error) {
	f, err := os.OpenFile(s.FIFO, os.O_WRONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open stdin %s: %w", s.FIFO, err)
	}
	r := &stdinRelay{fifo: f, once: s.Once, path: s.Socket}
	if s.Socket == "" {
		return r, nil
	}
	_ = os.Remove(s.Socket)
	old := syscall.Umask(0o077)
	ln, err := net.Listen("unix", s.Socket)
	syscall.Umask(old)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	r.ln = ln
	go r.serve()
	return r, nil
}

func (r *stdinRelay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		_, err = io.Copy(r.fifo, c)
		c.Close()
		r.mu.Unlock()
		if r.once || errors.Is(err, syscall.EPIPE) {
			r.close()
			return
		}
	}
}

// close closes stdin and the socket.
func (r *stdinRelay) close() {
	r.stop.Do(func() {
		if r.ln != nil {
			r.ln.Close() // removes the socket file
		}
		r.fifo.Close()
	})
}
