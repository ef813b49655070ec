package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// Harness is a runtime under contract test, with the means to put it in
// the partial states a crash leaves behind.
type Harness struct {
	RT runtime.Runtime
	// Spec is a container spec with this ID, whose process runs until
	// Finish makes it exit with code 3. IDs given are unique per test.
	Spec func(id string) runtime.ContainerSpec
	// Finish makes the running container id exit with code 3.
	Finish func(t *testing.T, id string)
	// LeaveSnapshot makes a snapshot keyed id with no container: a create
	// that died between preparing the snapshot and writing the container.
	LeaveSnapshot func(t *testing.T, id string)
	// LeaveTaskCreated gives the created container id a task that is made
	// but not started: a start that died half-way.
	LeaveTaskCreated func(t *testing.T, id string)
	// Resources reads the cgroup settings the running container id has
	// (nil: not checked).
	Resources func(t *testing.T, id string) runtime.Resources
}

// Contract checks what minilet's pod logic relies on from a Runtime, in
// the states a crash of the daemon leaves. It runs against the fake in
// unit tests and against containerd in pkg/runtime/containerd, so the fake
// behaves as containerd does.
func Contract(t *testing.T, newHarness func(t *testing.T) Harness) {
	ctx := context.Background()
	seq := 0
	id := func(t *testing.T) string {
		seq++
		return fmt.Sprintf("contract%d-%d", time.Now().UnixNano()%1e6, seq)
	}
	state := func(t *testing.T, rt runtime.Runtime, id string) runtime.ContainerState {
		t.Helper()
		c, err := rt.ContainerStatus(ctx, id)
		if errors.Is(err, runtime.ErrNotFound) {
			return "absent"
		}
		if err != nil {
			t.Fatalf("status of %s: %v", id, err)
		}
		return c.State
	}
	waitState := func(t *testing.T, rt runtime.Runtime, id string, want runtime.ContainerState) runtime.Container {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := rt.ContainerStatus(ctx, id)
			if err == nil && c.State == want {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: state %s (%v), want %s", id, c.State, err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	snapshotOf := func(t *testing.T, rt runtime.Runtime, id string) bool {
		t.Helper()
		keys, err := rt.ListSnapshots(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(keys, id)
	}
	create := func(t *testing.T, h Harness, id string) {
		t.Helper()
		if err := h.RT.CreateContainer(ctx, h.Spec(id)); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
		t.Cleanup(func() { _ = h.RT.RemoveContainer(ctx, id) })
	}
	start := func(t *testing.T, h Harness, id string) uint32 {
		t.Helper()
		pid, err := h.RT.StartContainer(ctx, id)
		if err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		if pid == 0 {
			t.Fatalf("start %s: PID 0", id)
		}
		return pid
	}

	t.Run("create twice is ErrAlreadyExists", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		if err := h.RT.CreateContainer(ctx, h.Spec(c)); !errors.Is(err, runtime.ErrAlreadyExists) {
			t.Fatalf("second create: %v, want ErrAlreadyExists", err)
		}
		if got := state(t, h.RT, c); got != runtime.StateCreated {
			t.Fatalf("state %s, want created", got)
		}
	})
	t.Run("start and status of a missing container are ErrNotFound", func(t *testing.T) {
		h := newHarness(t)
		if _, err := h.RT.StartContainer(ctx, "contract-missing"); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("start: %v, want ErrNotFound", err)
		}
		if _, err := h.RT.ContainerStatus(ctx, "contract-missing"); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("status: %v, want ErrNotFound", err)
		}
	})
	t.Run("start is idempotent: a running task is kept", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		pid := start(t, h, c)
		if again := start(t, h, c); again != pid {
			t.Fatalf("second start gave PID %d, want the running %d", again, pid)
		}
		if got := waitState(t, h.RT, c, runtime.StateRunning); got.PID != pid || got.StartedAt.IsZero() {
			t.Fatalf("status %+v, want PID %d and a start time", got, pid)
		}
	})
	t.Run("an exited task is replaced by a new one on start", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		pid := start(t, h, c)
		h.Finish(t, c)
		ex := waitState(t, h.RT, c, runtime.StateExited)
		if ex.ExitCode != 3 || ex.FinishedAt.IsZero() {
			t.Fatalf("exited %+v, want code 3 and a finish time", ex)
		}
		if again := start(t, h, c); again == pid {
			t.Fatalf("restart kept the old PID %d", pid)
		}
		waitState(t, h.RT, c, runtime.StateRunning)
	})
	t.Run("a task made but never started is started", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		h.LeaveTaskCreated(t, c)
		if got := state(t, h.RT, c); got != runtime.StateCreated {
			t.Fatalf("state %s with a task not started, want created", got)
		}
		start(t, h, c)
		waitState(t, h.RT, c, runtime.StateRunning)
	})
	t.Run("stop of a container that does not run is not an error", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		if err := h.RT.StopContainer(ctx, c, "", time.Second); err != nil {
			t.Fatalf("stop created: %v", err)
		}
		if err := h.RT.StopContainer(ctx, "contract-missing", "", time.Second); err != nil {
			t.Fatalf("stop missing: %v", err)
		}
	})
	t.Run("stop of a running container waits for its exit", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		start(t, h, c)
		if err := h.RT.StopContainer(ctx, c, "", 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if got := state(t, h.RT, c); got != runtime.StateExited {
			t.Fatalf("state %s after stop, want exited", got)
		}
	})
	t.Run("resources of a running task are updated and the labels set; without a task it is ErrNotFound", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		r := runtime.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimitBytes: 64 << 20}
		if err := h.RT.UpdateResources(ctx, c, r, map[string]string{"contract-resized": "1"}); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("update without a task: %v", err)
		}
		if err := h.RT.UpdateResources(ctx, "contract-missing", r, nil); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("update of a missing container: %v", err)
		}
		start(t, h, c)
		if err := h.RT.UpdateResources(ctx, c, r, map[string]string{"contract-resized": "1"}); err != nil {
			t.Fatalf("update: %v", err)
		}
		got, err := h.RT.ContainerStatus(ctx, c)
		if err != nil || got.Labels["contract-resized"] != "1" || got.State != runtime.StateRunning {
			t.Fatalf("after update: %+v %v", got, err)
		}
		if h.Resources != nil {
			if now := h.Resources(t, c); now != r {
				t.Fatalf("resources %+v, want %+v", now, r)
			}
		}
		// Limits lifted: zero quota and memory limit are unlimited.
		if err := h.RT.UpdateResources(ctx, c, runtime.Resources{CPUShares: 2}, nil); err != nil {
			t.Fatalf("update to no limits: %v", err)
		}
		if h.Resources != nil {
			if now := h.Resources(t, c); now.CPUQuota != 0 || now.MemoryLimitBytes != 0 || now.CPUShares != 2 {
				t.Fatalf("resources %+v after the limits were lifted", now)
			}
		}
	})
	for _, st := range []string{"created", "task created", "running", "exited"} {
		t.Run("remove a container "+st+": container, task and snapshot go", func(t *testing.T) {
			h := newHarness(t)
			c := id(t)
			create(t, h, c)
			switch st {
			case "task created":
				h.LeaveTaskCreated(t, c)
			case "running":
				start(t, h, c)
			case "exited":
				start(t, h, c)
				h.Finish(t, c)
				waitState(t, h.RT, c, runtime.StateExited)
			}
			if !snapshotOf(t, h.RT, c) {
				t.Fatal("no snapshot listed for the container")
			}
			if err := h.RT.RemoveContainer(ctx, c); err != nil {
				t.Fatalf("remove: %v", err)
			}
			if got := state(t, h.RT, c); got != "absent" {
				t.Fatalf("state %s after remove", got)
			}
			if snapshotOf(t, h.RT, c) {
				t.Fatal("snapshot left after remove")
			}
			if err := h.RT.RemoveContainer(ctx, c); err != nil {
				t.Fatalf("second remove: %v, want nil", err)
			}
		})
	}
	t.Run("a snapshot without its container is listed, replaced by a create, and removable", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		h.LeaveSnapshot(t, c)
		t.Cleanup(func() { _ = h.RT.RemoveSnapshot(ctx, c) })
		if !snapshotOf(t, h.RT, c) {
			t.Fatal("left snapshot not listed")
		}
		create(t, h, c)
		start(t, h, c)
		if err := h.RT.RemoveContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
		d := id(t)
		h.LeaveSnapshot(t, d)
		if err := h.RT.RemoveSnapshot(ctx, d); err != nil {
			t.Fatalf("remove snapshot: %v", err)
		}
		if snapshotOf(t, h.RT, d) {
			t.Fatal("snapshot left after RemoveSnapshot")
		}
		if err := h.RT.RemoveSnapshot(ctx, d); err != nil {
			t.Fatalf("second remove snapshot: %v, want nil", err)
		}
	})
	t.Run("exec streams stdin to stdout and reports the exit code", func(t *testing.T) {
		h := newHarness(t)
		c := id(t)
		create(t, h, c)
		if _, err := h.RT.ExecStream(ctx, c, []string{"cat"}, runtime.ExecStreams{Stdin: strings.NewReader("x"), Stdout: io.Discard}); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("exec in a container not started: %v, want ErrNotFound", err)
		}
		start(t, h, c)
		var out bytes.Buffer
		code, err := h.RT.ExecStream(ctx, c, []string{"cat"}, runtime.ExecStreams{Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out})
		if err != nil || code != 0 || out.String() != "hello\nworld\n" {
			t.Fatalf("cat: code %d, err %v, out %q; want 0, nil, the input", code, err, out.String())
		}
		if code, err := h.RT.ExecStream(ctx, c, []string{"false"}, runtime.ExecStreams{}); err != nil || code != 1 {
			t.Fatalf("false: code %d, err %v; want 1, nil", code, err)
		}
	})
	t.Run("exits are streamed", func(t *testing.T) {
		h := newHarness(t)
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		exits, err := h.RT.Exits(sctx)
		if err != nil {
			t.Fatal(err)
		}
		c := id(t)
		create(t, h, c)
		start(t, h, c)
		h.Finish(t, c)
		timeout := time.After(20 * time.Second)
		for {
			select {
			case ex := <-exits:
				if ex.ContainerID == c {
					if ex.ExitCode != 3 {
						t.Fatalf("exit %+v, want code 3", ex)
					}
					return
				}
			case <-timeout:
				t.Fatal("no exit event")
			}
		}
	})
	t.Run("list by label selects", func(t *testing.T) {
		h := newHarness(t)
		a, b := id(t), id(t)
		sa, sb := h.Spec(a), h.Spec(b)
		sa.Labels = map[string]string{"contract": a}
		sb.Labels = map[string]string{"contract": b}
		for _, s := range []runtime.ContainerSpec{sa, sb} {
			if err := h.RT.CreateContainer(ctx, s); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.RT.RemoveContainer(ctx, s.ID) })
		}
		cs, err := h.RT.ListContainers(ctx, map[string]string{"contract": a})
		if err != nil || len(cs) != 1 || cs[0].ID != a || cs[0].Labels["contract"] != a {
			t.Fatalf("list: %+v %v", cs, err)
		}
	})
}
