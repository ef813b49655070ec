package containerd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"

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
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	t, err := c.Task(ctx, nil)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	pspec := *spec.Process
	pspec.Args = cmd
	pspec.Terminal = false

	// The shim writes the output to a file, not to FIFOs this process
	// reads: a minilet killed during an exec would leave FIFOs without a
	// reader, and the shim's open of them blocks that container's shim
	// (every later status of it hangs), which the randomized SIGKILL test
	// of the workloads found.
	execID := fmt.Sprintf("exec-%d", time.Now().UnixNano())
	if err := os.MkdirAll(r.execDir(), 0o700); err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, err)
	}
	outPath := filepath.Join(r.execDir(), id+"-"+execID+".log")
	defer os.Remove(outPath)
	p, err := t.Exec(ctx, execID, &pspec, cio.LogFile(outPath))
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in %s: %w", id, wrap(err))
	}
	deleted := false
	deleteProcess := func() {
		if deleted {
			return
		}
		deleted = true
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = p.Delete(dctx, containerd.WithProcessKill)
	}
	defer deleteProcess()
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
		// Deleting the process closes its output once the shim copied
		// it; then the file holds all of it.
		deleteProcess()
		return runtime.ExecResult{ExitCode: int32(code), Output: readCapped(outPath, maxExecOutput)}, nil
	case <-timer.C:
		// Kill the process and everything it started: a child that holds
		// stdout open must not outlive the probe (kubernetes#128408).
		killTree(p.Pid())
		if err := p.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
			r.log.Sugar().Warnf("exec in %s: kill timed-out process: %v", id, err)
		}
		return runtime.ExecResult{TimedOut: true, ExitCode: -1, Output: readCapped(outPath, maxExecOutput)}, nil
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return runtime.ExecResult{}, ctx.Err()
	}
}

// execDir is where the shims write Exec output.
func (r *Runtime) execDir() string {
	if r.opts.ExecDir != "" {
		return r.opts.ExecDir
	}
	return filepath.Join(os.TempDir(), "minilet-exec-"+r.opts.Namespace)
}

// prepareExecDir makes the directory of Exec output and removes what a
// killed daemon left in it.
func (r *Runtime) prepareExecDir() error {
	dir := r.execDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exec output dir: %w", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
	return nil
}

// readCapped reads the first max bytes of a file (nothing if it is not
// there).
func readCapped(path string, max int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, int64(max)))
	return b
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
