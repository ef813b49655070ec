package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/snapshots"
	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/containerlog"
	"github.com/minilet/minilet/pkg/runtime"
)

// StartContainer creates and starts the container's task. A task that is
// already running is kept and its PID returned; an exited one is replaced.
func (r *Runtime) StartContainer(ctx context.Context, id string) (uint32, error) {
	ctx = r.ctx(ctx)
	// A container this process made a moment ago has no task yet: no
	// need to load it or look for one.
	c, fresh := r.takeFresh(id)
	if !fresh {
		var err error
		if c, err = r.client.LoadContainer(ctx, id); err != nil {
			return 0, fmt.Errorf("start container %s: %w", id, wrap(err))
		}
		if pid, done, err := r.reuseTask(ctx, id, c); done || err != nil {
			return pid, err
		}
	}
	m, known := r.created(id)
	if !known {
		labels, err := c.Labels(ctx)
		if err != nil {
			return 0, fmt.Errorf("start container %s: %w", id, wrap(err))
		}
		m = madeHere{logPath: labels[labelLogPath], tty: labels[labelTTY] == "true", stdin: labels[labelStdin]}
	}
	logPath, tty := m.logPath, m.tty
	var stdin containerlog.Stdin
	if m.stdin != "" && tty && logPath != "" && r.opts.LogDriver != "" {
		stdin = r.stdinFor(id, m.stdin == "once")
		if err := makeStdinFIFO(stdin); err != nil {
			return 0, fmt.Errorf("start container %s: %w", id, err)
		}
	}
	creator := cio.NullIO
	if p := logPath; p != "" {
		creator = cio.LogFile(p)
		if r.opts.LogDriver != "" {
			// The shim runs the driver, so logs keep flowing while the
			// daemon is stopped or restarted (and it holds stdin).
			creator = cio.BinaryIO(r.opts.LogDriver, containerlog.DriverArgs(p, r.opts.LogMaxSize, r.opts.LogMaxFiles, stdin))
		}
	}
	if stdin.FIFO != "" {
		creator = withStdin(creator, stdin.FIFO)
	}
	if tty {
		// The shim copies the terminal's output to the same log driver
		// (or file); without a terminal in the task request runc refuses
		// a spec that asks for one.
		creator = withTerminal(creator)
	}
	t, err := c.NewTask(ctx, creator)
	if errdefs.IsAlreadyExists(err) {
		// containerd died while it made this task: after its restart it
		// holds the task's bundle and shim, but the shim never made the
		// task, so the task can be neither loaded nor made. Deleting it
		// through the task service clears both.
		r.log.Warn("task left half-made by containerd; deleting it", zap.String("id", id))
		if _, derr := r.client.TaskService().Delete(ctx, &tasks.DeleteTaskRequest{ContainerID: id}); derr != nil && !errdefs.IsNotFound(derr) {
			return 0, fmt.Errorf("start container %s: delete half-made task: %w", id, wrap(derr))
		}
		t, err = c.NewTask(ctx, creator)
	}
	if err != nil {
		if errdefs.IsAlreadyExists(err) || strings.Contains(err.Error(), "file exists") {
			// The task's bundle directory outlived a containerd that
			// died while making it, and the new one did not take it
			// back: this ID cannot get a task.
			return 0, fmt.Errorf("start container %s: create task: %w: %v", id, runtime.ErrTaskLeftover, err)
		}
		return 0, fmt.Errorf("start container %s: create task: %w", id, wrap(err))
	}
	if err := r.startTask(ctx, id, t); err != nil {
		return 0, err
	}
	return t.Pid(), r.markStarted(ctx, c)
}

// taskStartTimeout bounds the start of a task that is made: runc start
// only opens the exec fifo that the container's init waits on, which
// takes milliseconds. An init left wedged by a create cut short
// (containerd killed while its shim ran runc create) never opens it, and
// the start would hold the pod forever.
const taskStartTimeout = 5 * time.Second

// startTask starts a made task; if that fails, or does not answer within
// taskStartTimeout, the task is killed and deleted, so that the next start
// makes a new one.
func (r *Runtime) startTask(ctx context.Context, id string, t containerd.Task) error {
	sctx, cancel := context.WithTimeout(ctx, taskStartTimeout)
	defer cancel()
	err := t.Start(sctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("start container %s: %w", id, ctx.Err())
	}
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	if _, derr := t.Delete(dctx, containerd.WithProcessKill); derr != nil && !errdefs.IsNotFound(derr) {
		r.log.Warn("cannot delete a task that did not start", zap.String("id", id), zap.Error(derr))
	}
	if sctx.Err() != nil {
		return fmt.Errorf("start container %s: the task did not start within %v (removed to be made again): %w", id, taskStartTimeout, wrap(err))
	}
	return fmt.Errorf("start container %s: %w", id, wrap(err))
}

// reuseTask handles a container's existing task: a running one is kept
// (done, with its PID), a created one is started (done), any other is
// deleted so that a new one can be made (not done).
func (r *Runtime) reuseTask(ctx context.Context, id string, c containerd.Container) (uint32, bool, error) {
	t, err := c.Task(ctx, nil)
	if err != nil {
		return 0, false, nil
	}
	st, err := t.Status(ctx)
	if err == nil && st.Status == containerd.Running {
		return t.Pid(), true, nil
	}
	if err == nil && st.Status == containerd.Created {
		if err := r.startTask(ctx, id, t); err != nil {
			return 0, true, err
		}
		return t.Pid(), true, r.markStarted(ctx, c)
	}
	if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return 0, true, fmt.Errorf("start container %s: remove old task: %w", id, wrap(err))
	}
	return 0, false, nil
}

// takeFresh returns a container this process made and has not started
// yet, and forgets it: a second start looks as for any container.
func (r *Runtime) takeFresh(id string) (containerd.Container, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.made[id]
	if m.unstarted == nil {
		return nil, false
	}
	c := m.unstarted
	m.unstarted = nil
	r.made[id] = m
	return c, true
}

// created returns what this process knows of a container it created
// (saving a round trip to containerd on the pod start path).
func (r *Runtime) created(id string) (madeHere, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.made[id]
	return m, ok
}

// terminalIO is an IO whose task gets a terminal.
type terminalIO struct{ cio.IO }

func (t terminalIO) Config() cio.Config {
	c := t.IO.Config()
	c.Terminal = true
	return c
}

func withTerminal(creator cio.Creator) cio.Creator {
	return func(id string) (cio.IO, error) {
		io, err := creator(id)
		if err != nil {
			return nil, err
		}
		return terminalIO{io}, nil
	}
}

func (r *Runtime) markStarted(ctx context.Context, c containerd.Container) error {
	_, err := c.SetLabels(ctx, map[string]string{labelStartedAt: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("container %s: record start time: %w", c.ID(), wrap(err))
	}
	return nil
}

// StopContainer signals the task, waits up to grace, then kills it. The wait
// is subscribed before the first signal, so a fast exit is never missed.
func (r *Runtime) StopContainer(ctx context.Context, id string, signal string, grace time.Duration) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, wrap(err))
	}
	t, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, wrap(err))
	}
	st, err := t.Status(ctx)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, wrap(err))
	}
	if st.Status == containerd.Stopped {
		return nil
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := t.Wait(waitCtx)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, wrap(err))
	}
	sig := syscall.SIGTERM
	if signal != "" {
		if sig, err = containerd.ParseSignal(signal); err != nil {
			return fmt.Errorf("stop container %s: stop signal %q: %w", id, signal, err)
		}
	}
	if grace > 0 {
		if err := t.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("stop container %s: send %v: %w", id, sig, wrap(err))
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-exited:
			return nil
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := t.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: kill: %w", id, wrap(err))
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RemoveContainer deletes the task (killing it if still running), the
// container and its snapshot. A container already gone is not an error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return r.RemoveSnapshot(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, wrap(err))
	}
	if t, err := c.Task(ctx, nil); err == nil {
		if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove container %s: delete task: %w", id, wrap(err))
		}
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, wrap(err))
	}
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, wrap(err))
	}
	r.mu.Lock()
	delete(r.made, id)
	r.mu.Unlock()
	if err := os.RemoveAll(r.stdinDir(id)); err != nil {
		return fmt.Errorf("remove container %s: its stdin: %w", id, err)
	}
	return nil
}

// RemoveSnapshot removes the snapshot key. A snapshot already gone is not
// an error.
func (r *Runtime) RemoveSnapshot(ctx context.Context, key string) error {
	ctx = r.ctx(ctx)
	err := r.client.SnapshotService(r.opts.Snapshotter).Remove(ctx, key)
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove snapshot %s: %w", key, wrap(err))
	}
	return nil
}

// ListSnapshots lists the keys of the snapshots that start with prefix.
func (r *Runtime) ListSnapshots(ctx context.Context, prefix string) ([]string, error) {
	ctx = r.ctx(ctx)
	var keys []string
	err := r.client.SnapshotService(r.opts.Snapshotter).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if strings.HasPrefix(info.Name, prefix) {
			keys = append(keys, info.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", wrap(err))
	}
	return keys, nil
}

// ContainerStatus reports one container and its task.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.Container, error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("container %s: %w", id, wrap(err))
	}
	info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("container %s: %w", id, wrap(err))
	}
	return r.status(ctx, c, info.Labels, info.Image, info.CreatedAt)
}

// ListContainers lists containers whose labels include all of selector.
func (r *Runtime) ListContainers(ctx context.Context, selector map[string]string) ([]runtime.Container, error) {
	ctx = r.ctx(ctx)
	var filters []string
	for k, v := range selector {
		filters = append(filters, fmt.Sprintf("labels.%q==%q", k, v))
	}
	var filter []string
	if len(filters) > 0 {
		filter = []string{strings.Join(filters, ",")}
	}
	cs, err := r.client.Containers(ctx, filter...)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", wrap(err))
	}
	out := make([]runtime.Container, 0, len(cs))
	for _, c := range cs {
		info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			if errdefs.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("list containers: %w", wrap(err))
		}
		st, err := r.status(ctx, c, info.Labels, info.Image, info.CreatedAt)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// statusTimeout bounds how long one container's task status may take. It
// is long on purpose: a shim busy for a few seconds (as after a killed
// minilet's exec) must not read as a lost sandbox, which the pod logic
// would recreate; only a shim that stays silent this long is given up.
const statusTimeout = 2 * time.Minute

func (r *Runtime) status(ctx context.Context, c containerd.Container, labels map[string]string, image string, created time.Time) (runtime.Container, error) {
	out := runtime.Container{ID: c.ID(), Image: image, Labels: labels, CreatedAt: created, State: runtime.StateCreated}
	if img, err := r.client.ImageService().Get(ctx, image); err == nil {
		out.ImageID = img.Target.Digest.String()
	}
	if s := labels[labelStartedAt]; s != "" {
		out.StartedAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	// A shim that never answers must not hold every caller for good
	// (adoption lists all containers): after statusTimeout the state is
	// Unknown.
	sctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	unanswered := func(err error) bool {
		if ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
			r.log.Warn("the container's shim did not answer; its state is unknown for now", zap.String("container", c.ID()), zap.Error(err))
			out.State = runtime.StateUnknown
			return true
		}
		return false
	}
	t, err := c.Task(sctx, nil)
	if errdefs.IsNotFound(err) {
		return out, nil
	}
	if err != nil {
		if unanswered(err) {
			return out, nil
		}
		return out, fmt.Errorf("container %s: %w", c.ID(), wrap(err))
	}
	st, err := t.Status(sctx)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return out, nil
		}
		if unanswered(err) {
			return out, nil
		}
		return out, fmt.Errorf("container %s: %w", c.ID(), wrap(err))
	}
	out.PID = t.Pid()
	switch st.Status {
	case containerd.Running, containerd.Paused, containerd.Pausing:
		out.State = runtime.StateRunning
	case containerd.Created:
		out.State = runtime.StateCreated
	case containerd.Stopped:
		out.State = runtime.StateExited
		out.ExitCode = int32(st.ExitStatus)
		out.FinishedAt = st.ExitTime
		if out.ExitCode == 137 {
			out.OOMKilled = r.oomKilled(ctx, c)
		}
	default:
		out.State = runtime.StateUnknown
	}
	return out, nil
}
