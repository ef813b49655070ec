package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minilet/minilet/pkg/runtime"
)

// execDrain bounds the wait for an exited command's output: a child left
// running with the command's stdout must not hold the session open.
const execDrain = 2 * time.Second

// ExecStream runs cmd in the running container id with the caller's
// streams (minilet exec, debug). The command's stdin is closed once
// s.Stdin ends; a cancelled ctx (the client went away) kills the command
// and what it started, where the kubelet leaves them running.
func (r *Runtime) ExecStream(ctx context.Context, id string, cmd []string, s runtime.ExecStreams) (int32, error) {
	ctx = r.ctx(ctx)
	t, pspec, err := r.execTarget(ctx, id, cmd)
	if err != nil {
		return -1, err
	}
	pspec.Terminal = s.TTY
	if s.TTY && s.Resize != nil {
		// A size already given is the terminal's from its start: runc
		// makes the console with it, so the command never sees 0x0.
		select {
		case size, ok := <-s.Resize:
			if ok {
				pspec.ConsoleSize = &specs.Box{Width: uint(size.Width), Height: uint(size.Height)}
			}
		default:
		}
	}

	stdout, stderr := orDiscard(s.Stdout), orDiscard(s.Stderr)
	var stdin *eofSignal
	var in io.Reader
	if s.Stdin != nil {
		stdin = &eofSignal{r: s.Stdin, done: make(chan struct{})}
		in = stdin
	}
	opts := []cio.Opt{cio.WithStreams(in, stdout, stderr), cio.WithFIFODir(r.execDir())}
	if s.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	if err := os.MkdirAll(r.execDir(), 0o700); err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	execID := fmt.Sprintf("exec-%d", time.Now().UnixNano())
	// Made and deleted with a context of its own: the caller's ends when
	// the client goes, and the process must still be cleaned up then.
	bg := context.WithoutCancel(ctx)
	p, err := t.Exec(bg, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	defer func() {
		dctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		_, _ = p.Delete(dctx, containerd.WithProcessKill)
	}()
	waitCtx, cancelWait := context.WithCancel(bg)
	defer cancelWait()
	exited, err := p.Wait(waitCtx)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	if err := p.Start(bg); err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	var side sync.WaitGroup
	defer side.Wait()
	sideCtx, endSide := context.WithCancel(bg)
	defer endSide()
	if stdin != nil {
		side.Add(1)
		go func() {
			defer side.Done()
			select {
			case <-stdin.done:
				// The shim holds the FIFO open itself; only CloseIO lets
				// the command read end-of-file.
				_ = p.CloseIO(sideCtx, containerd.WithStdinCloser)
			case <-sideCtx.Done():
			}
		}()
	}
	if s.TTY && s.Resize != nil {
		side.Add(1)
		go func() {
			defer side.Done()
			for {
				select {
				case size, ok := <-s.Resize:
					if !ok {
						return
					}
					_ = p.Resize(sideCtx, uint32(size.Width), uint32(size.Height))
				case <-sideCtx.Done():
					return
				}
			}
		}()
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return -1, fmt.Errorf("exec in %s: %w", id, wrap(err))
		}
		drained := make(chan struct{})
		go func() { p.IO().Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(execDrain):
			p.IO().Cancel()
		}
		return int32(code), nil
	case <-ctx.Done():
		killTree(p.Pid())
		if err := p.Kill(bg, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
			r.log.Sugar().Warnf("exec in %s: kill the command of a client that went away: %v", id, err)
		}
		p.IO().Cancel()
		return -1, ctx.Err()
	}
}

// eofSignal reads r and closes done once r is finished (end of file or an
// error: either way the command gets no more input).
type eofSignal struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(func() { close(e.done) })
		if !errors.Is(err, io.EOF) {
			err = io.EOF
		}
	}
	return n, err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
