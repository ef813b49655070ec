package containerd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd/cio"

	"github.com/minilet/minilet/pkg/containerlog"
	"github.com/minilet/minilet/pkg/runtime"
)

// A container with stdin (and a terminal: the shim carries input to a
// container started with a logging binary only through its console) has
// a fifo the shim reads into the terminal, whose writing end the log
// driver holds for as long as the container lives, and a socket the
// driver copies attach clients' input from into the fifo. Neither needs
// minilet: a daemon restart leaves the container's stdin open.

// stdinDir is where container id's stdin fifo and attach socket live:
// <IODir>/<16 hex digits of the ID's hash>, short enough for a socket
// path.
func (r *Runtime) stdinDir(id string) string {
	sum := sha256.Sum256([]byte(id))
	dir := r.opts.IODir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "minilet-io-"+r.opts.Namespace)
	}
	return filepath.Join(dir, hex.EncodeToString(sum[:8]))
}

func (r *Runtime) stdinFor(id string, once bool) containerlog.Stdin {
	dir := r.stdinDir(id)
	return containerlog.Stdin{FIFO: filepath.Join(dir, "stdin"), Socket: filepath.Join(dir, "attach.sock"), Once: once}
}

// makeStdinFIFO makes the fifo (kept if an earlier start made it).
func makeStdinFIFO(s containerlog.Stdin) error {
	if err := os.MkdirAll(filepath.Dir(s.FIFO), 0o700); err != nil {
		return err
	}
	if err := syscall.Mkfifo(s.FIFO, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("make the stdin fifo: %w", err)
	}
	return nil
}

// stdinIO is an IO whose task reads its terminal input from a fifo.
type stdinIO struct {
	cio.IO
	fifo string
}

func (s stdinIO) Config() cio.Config {
	c := s.IO.Config()
	c.Stdin = s.fifo
	return c
}

func withStdin(creator cio.Creator, fifo string) cio.Creator {
	return func(id string) (cio.IO, error) {
		io, err := creator(id)
		if err != nil {
			return nil, err
		}
		return stdinIO{io, fifo}, nil
	}
}

// AttachStdin copies s.Stdin into the stdin of the running container id
// until it ends (then the session ends; a container with stdinOnce gets
// end-of-file) or ctx ends, and resizes the container's terminal to the
// sizes s.Resize gives.
func (r *Runtime) AttachStdin(ctx context.Context, id string, s runtime.AttachStreams) error {
	sock := r.stdinFor(id, false).Socket
	conn, err := dialAttach(ctx, sock)
	if err != nil {
		return fmt.Errorf("container %s: its stdin is closed or was never open: %w", id, err)
	}
	defer conn.Close()
	if s.Resize != nil {
		c, err := r.client.LoadContainer(r.ctx(ctx), id)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, wrap(err))
		}
		t, err := c.Task(r.ctx(ctx), nil)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, wrap(err))
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case sz, ok := <-s.Resize:
					if !ok {
						return
					}
					_ = t.Resize(r.ctx(ctx), uint32(sz.Width), uint32(sz.Height))
				}
			}
		}()
	}
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, s.Stdin)
		copied <- err
	}()
	select {
	case err := <-copied:
		return err
	case <-ctx.Done():
		return nil
	}
}

// attachDialWait is how long a container just started may take to open
// its attach socket: the log driver makes it once the shim has the fifo.
const attachDialWait = 3 * time.Second

// dialAttach connects to an attach socket, waiting attachDialWait for it
// to appear.
func dialAttach(ctx context.Context, sock string) (net.Conn, error) {
	deadline := time.Now().Add(attachDialWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", sock)
		if err == nil || time.Now().After(deadline) || !(errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}
