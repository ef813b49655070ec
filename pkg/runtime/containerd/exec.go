package containerd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/runtime"
)

// maxExecOutput caps what Exec keeps of a command's output, as the kubelet
// does for probes.
const maxExecOutput = 10 << 10

// Exec runs cmd in the running container id. On timeout the process is
// killed and Exec returns at once with TimedOut set, without waiting for
// children that may hold its output open.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	ctx = r.ctx(ctx)
	t, pspec, err := r.execTarget(ctx, id, cmd)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	pspec.Terminal = false

	out := &cappedBuffer{max: maxExecOutput}
	execID := fmt.Sprintf("exec-%d", time.Now().UnixNano())
	// The FIFOs go in minilet's own directory: a minilet killed during an
	// exec leaves them without a reader, and the shim's open of them
	// blocks that container's shim (every later status of it hangs, so
	// the next minilet hung at adoption; the randomized SIGKILL test of
	// the workloads found it). prepareExecDir opens what is left there
	// once, which lets the shim go on.
	if err := os.MkdirAll(r.execDir(), 0o700); err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, err)
	}
	p, err := t.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, out, out), cio.WithFIFODir(r.execDir())))
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = p.Delete(dctx, containerd.WithProcessKill)
	}()
	waitCtx, cancelWait := context.WithCancel(ctx)
	defer cancelWait()
	exited, err := p.Wait(waitCtx)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	if err := p.Start(ctx); err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
		}
		// Give the output a moment to drain, bounded: a child that keeps
		// stdout open must not hold the caller.
		drained := make(chan struct{})
		go func() { p.IO().Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(100 * time.Millisecond):
		}
		return runtime.ExecResult{ExitCode: int32(code), Output: out.Bytes()}, nil
	case <-timer.C:
		// Kill the process and everything it started: a child that holds
		// stdout open must not outlive the probe (kubernetes#128408).
		killTree(p.Pid())
		if err := p.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
			r.log.Sugar().Warnf("exec in %s: kill timed-out process: %v", id, err)
		}
		return runtime.ExecResult{TimedOut: true, ExitCode: -1, Output: out.Bytes()}, nil
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return runtime.ExecResult{}, ctx.Err()
	}
}

// execTarget loads the running task of container id and the process spec
// of a command in it: the container's, with cmd as its arguments.
func (r *Runtime) execTarget(ctx context.Context, id string, cmd []string) (containerd.Task, specs.Process, error) {
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return nil, specs.Process{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	t, err := c.Task(ctx, nil)
	if err != nil {
		return nil, specs.Process{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, specs.Process{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	pspec := *spec.Process
	pspec.Args = cmd
	return t, pspec, nil
}

// cappedBuffer keeps the first max bytes written to it.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// killTree sends SIGKILL to pid's descendants, then to pid. Children are
// found through /proc/<pid>/task/<tid>/children before anything is killed,
// so none is re-parented out of reach first.
func killTree(pid uint32) {
	if pid == 0 {
		return
	}
	var all []int
	queue := []int{int(pid)}
	for len(queue) > 0 && len(all) < 4096 {
		p := queue[0]
		queue = queue[1:]
		all = append(all, p)
		queue = append(queue, childrenOf(p)...)
	}
	for i := len(all) - 1; i >= 0; i-- {
		_ = syscall.Kill(all[i], syscall.SIGKILL)
	}
}

func childrenOf(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// execDir holds the FIFOs of Exec.
func (r *Runtime) execDir() string {
	if r.opts.ExecDir != "" {
		return r.opts.ExecDir
	}
	return filepath.Join(os.TempDir(), "minilet-exec-"+r.opts.Namespace)
}

// prepareExecDir makes the directory of Exec's FIFOs and clears what a
// killed daemon left there: each FIFO is opened for reading once (a shim
// blocked opening it for writing goes on, and gets EPIPE), then removed.
func (r *Runtime) prepareExecDir() error {
	dir := r.execDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exec FIFO dir: %w", err)
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeNamedPipe == 0 {
			return nil
		}
		if fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err == nil {
			r.log.Info("released the FIFO of an exec a killed minilet left", zap.String("fifo", p))
			_ = syscall.Close(fd)
		}
		return nil
	})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	return nil
}
