package containerd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/leases"
	"go.uber.org/zap"

	"github.com/minilet/minilet/internal/syncbuf"
	"github.com/minilet/minilet/internal/testcontainerd"
	"github.com/minilet/minilet/pkg/ociarchive"
	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/runtime/runtimetest"
)

const contractImage = "localhost/minilet-contract/busybox:1"

// TestContainerdContract runs the runtime contract (the one the fake meets)
// against a private containerd, with partial states made through the
// containerd client as a crash leaves them.
func TestContainerdContract(t *testing.T) {
	r, ctx := contractRuntime(t)
	runtimetest.Contract(t, func(t *testing.T) runtimetest.Harness {
		return runtimetest.Harness{
			RT: r,
			Spec: func(id string) runtime.ContainerSpec {
				return runtime.ContainerSpec{ID: id, Image: contractImage,
					Args: []string{"sh", "-c", "while [ ! -f /dev/shm/finish ]; do sleep 0.05; done; exit 3"},
					Env:  []string{"PATH=/bin"}}
			},
			Finish: func(t *testing.T, id string) {
				// An exec's exit code and both streams come back (the
				// shim writes them to a file).
				res, err := r.Exec(ctx, id, []string{"sh", "-c", "echo to-out; echo to-err >&2; exit 4"}, 10*time.Second)
				if err != nil || res.ExitCode != 4 || !strings.Contains(string(res.Output), "to-out") || !strings.Contains(string(res.Output), "to-err") {
					t.Fatalf("exec in %s: %v %+v (output %q)", id, err, res, res.Output)
				}
				res, err = r.Exec(ctx, id, []string{"touch", "/dev/shm/finish"}, 10*time.Second)
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("finish %s: %v %+v", id, err, res)
				}
			},
			LeaveSnapshot: func(t *testing.T, id string) {
				// A create that died leaves its snapshot under the
				// client's lease (24 h); without one containerd's garbage
				// collector may take the snapshot before the test looks.
				lctx, done, err := r.client.WithLease(r.ctx(ctx), leases.WithExpiration(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = done(r.ctx(ctx)) })
				if _, err := r.client.SnapshotService(r.opts.Snapshotter).Prepare(lctx, id, ""); err != nil {
					t.Fatal(err)
				}
			},
			LeaveTaskCreated: func(t *testing.T, id string) {
				c, err := r.client.LoadContainer(r.ctx(ctx), id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.NewTask(r.ctx(ctx), cio.NullIO); err != nil {
					t.Fatal(err)
				}
			},
			Resources: func(t *testing.T, id string) runtime.Resources {
				c, err := r.ContainerStatus(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return cgroupResources(t, c.PID)
			},
		}
	})
}

// cgroupResources reads the cgroup v1 settings of process pid's cgroups:
// cpu shares, CFS quota and period, memory limit (unlimited ones as 0).
func cgroupResources(t *testing.T, pid uint32) runtime.Resources {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			paths[c] = filepath.Join("/sys/fs/cgroup", parts[1], parts[2])
		}
	}
	if paths["cpu"] == "" || paths["memory"] == "" {
		t.Skipf("no cgroup v1 cpu and memory hierarchies for pid %d", pid)
	}
	read := func(dir, file string) int64 {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	res := runtime.Resources{
		CPUShares: uint64(read(paths["cpu"], "cpu.shares")),
		CPUQuota:  read(paths["cpu"], "cpu.cfs_quota_us"),
		CPUPeriod: uint64(read(paths["cpu"], "cpu.cfs_period_us")),
	}
	if res.CPUQuota < 0 {
		res.CPUQuota = 0
	}
	if mem := read(paths["memory"], "memory.limit_in_bytes"); mem < 1<<62 {
		res.MemoryLimitBytes = mem
	}
	return res
}

// TestContainerdExecTerminal: an exec with a terminal starts with the size
// given and follows a resize; its stdin reaches the command.
func TestContainerdExecTerminal(t *testing.T) {
	r, ctx := contractRuntime(t)
	id := "exec-tty"
	if err := r.CreateContainer(ctx, runtime.ContainerSpec{ID: id, Image: contractImage, Args: []string{"sleep", "600"}, Env: []string{"PATH=/bin"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.RemoveContainer(context.Background(), id) })
	if _, err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	sizes := make(chan runtime.TerminalSize, 2)
	sizes <- runtime.TerminalSize{Width: 100, Height: 40}
	inR, inW := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	var code int32
	go func() {
		var err error
		code, err = r.ExecStream(ctx, id, []string{"sh", "-c", "stty size; read x; stty size; echo got $x"}, runtime.ExecStreams{Stdin: inR, Stdout: out, TTY: true, Resize: sizes})
		done <- err
	}()
	waitFor(t, func() bool { return strings.Contains(out.String(), "40 100") }, "first size", out)
	sizes <- runtime.TerminalSize{Width: 120, Height: 50}
	// The resize is applied before the next line is read: poll for it
	// through the terminal itself.
	waitFor(t, func() bool {
		res, err := r.Exec(ctx, id, []string{"sh", "-c", "stty size < /dev/pts/0"}, 5*time.Second)
		return err == nil && strings.Contains(string(res.Output), "50 120")
	}, "resize", out)
	// stdin stays open: a terminal whose input ends hangs up (SIGHUP).
	if _, err := io.WriteString(inW, "line\n"); err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	if err := <-done; err != nil || code != 0 {
		t.Fatalf("exec: %v, code %d; output %q", err, code, out.String())
	}
	if !strings.Contains(out.String(), "50 120") || !strings.Contains(out.String(), "got line") {
		t.Fatalf("output %q, want the new size and the line read", out.String())
	}
}

// syncBuffer is a buffer the test reads while something writes to it.
type syncBuffer = syncbuf.Buffer

func waitFor(t *testing.T, cond func() bool, what string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen in 20 s; output %q", what, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// contractRuntime starts a private containerd with the contract image.
func contractRuntime(t *testing.T) (*Runtime, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containerd; not with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	for _, tool := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; run `make deps`", tool)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("/bin/busybox is missing; run `make deps`")
	}
	dir := t.TempDir()
	proc, err := testcontainerd.Start(filepath.Join(dir, "containerd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	r, err := New(Options{Address: proc.Address, Namespace: "minilet-contract"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, contractImage, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.ImportImages(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := r.EnsureImage(ctx, contractImage, runtime.PullNever); err != nil {
		t.Fatal(err)
	}
	return r, ctx
}
