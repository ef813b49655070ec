package metrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/clock"
	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/runtime/runtimetest"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeRuntime answers every call with the error set for its operation.
type fakeRuntime struct {
	errs   map[string]error
	pulled bool
	calls  []string
}

func (f *fakeRuntime) call(op string) error {
	f.calls = append(f.calls, op)
	return f.errs[op]
}

func (f *fakeRuntime) EnsureImage(_ context.Context, ref string, _ runtime.PullPolicy, _ ...runtime.Credential) (runtime.Image, error) {
	if err := f.call(opEnsureImage); err != nil {
		return runtime.Image{}, err
	}
	return runtime.Image{Ref: ref, Pulled: f.pulled}, nil
}
func (f *fakeRuntime) ListImages(context.Context) ([]runtime.Image, error) {
	return []runtime.Image{{Ref: "x"}}, f.call(opListImages)
}
func (f *fakeRuntime) CreateContainer(context.Context, runtime.ContainerSpec) error {
	return f.call(opCreateContainer)
}
func (f *fakeRuntime) StartContainer(context.Context, string) (uint32, error) {
	return 42, f.call(opStartContainer)
}
func (f *fakeRuntime) StopContainer(context.Context, string, string, time.Duration) error {
	return f.call(opStopContainer)
}
func (f *fakeRuntime) UpdateResources(context.Context, string, runtime.Resources, map[string]string) error {
	return f.call(opUpdateResources)
}
func (f *fakeRuntime) RemoveContainer(context.Context, string) error {
	return f.call(opRemoveContainer)
}
func (f *fakeRuntime) ContainerStatus(_ context.Context, id string) (runtime.Container, error) {
	return runtime.Container{ID: id}, f.call(opContainerStatus)
}
func (f *fakeRuntime) ListContainers(context.Context, map[string]string) ([]runtime.Container, error) {
	return []runtime.Container{{ID: "a"}}, f.call(opListContainers)
}
func (f *fakeRuntime) ListSnapshots(context.Context, string) ([]string, error) {
	return nil, f.call(opListSnapshots)
}
func (f *fakeRuntime) RemoveSnapshot(context.Context, string) error {
	return f.call(opRemoveSnapshot)
}
func (f *fakeRuntime) EndGroups(context.Context, string) error { return nil }
func (f *fakeRuntime) ExecStream(context.Context, string, []string, runtime.ExecStreams) (int32, error) {
	return 0, nil
}
func (f *fakeRuntime) AttachStdin(context.Context, string, runtime.AttachStreams) error { return nil }
func (f *fakeRuntime) Exec(context.Context, string, []string, time.Duration) (runtime.ExecResult, error) {
	return runtime.ExecResult{ExitCode: 3}, f.call(opExec)
}
func (f *fakeRuntime) Exits(context.Context) (<-chan runtime.Exit, error) {
	f.calls = append(f.calls, "exits")
	return nil, nil
}
func (f *fakeRuntime) Ping(context.Context) error              { return f.call(opPing) }
func (f *fakeRuntime) Version(context.Context) (string, error) { return "fake", f.call(opVersion) }

// steppingClock advances by step on every reading, so each instrumented
// call (two readings) takes exactly step.
type steppingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingClock) NewTimer(d time.Duration) clock.Timer { return clock.Real{}.NewTimer(d) }

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// callAll calls every Runtime method once and reports the first result
// value that was not passed through.
func callAll(t *testing.T, rt runtime.Runtime) {
	t.Helper()
	ctx := context.Background()
	if img, err := rt.EnsureImage(ctx, "busybox", runtime.PullIfNotPresent); err == nil && img.Ref != "busybox" {
		t.Errorf("EnsureImage: got %+v", img)
	}
	if imgs, _ := rt.ListImages(ctx); len(imgs) != 1 {
		t.Errorf("ListImages: got %v", imgs)
	}
	rt.CreateContainer(ctx, runtime.ContainerSpec{ID: "a"})
	if pid, _ := rt.StartContainer(ctx, "a"); pid != 42 {
		t.Errorf("StartContainer: pid %d", pid)
	}
	rt.StopContainer(ctx, "a", "", time.Second)
	rt.RemoveContainer(ctx, "a")
	if c, _ := rt.ContainerStatus(ctx, "a"); c.ID != "a" {
		t.Errorf("ContainerStatus: got %+v", c)
	}
	if cs, _ := rt.ListContainers(ctx, nil); len(cs) != 1 {
		t.Errorf("ListContainers: got %v", cs)
	}
	if res, _ := rt.Exec(ctx, "a", []string{"true"}, time.Second); res.ExitCode != 3 {
		t.Errorf("Exec: got %+v", res)
	}
	rt.Exits(ctx)
	rt.Ping(ctx)
	if v, _ := rt.Version(ctx); v != "fake" {
		t.Errorf("Version: got %q", v)
	}
}

func TestInstrumentRuntime(t *testing.T) {
	m, reg := newTest(t, nil)
	stepping := &steppingClock{t: time.Unix(0, 0), step: 20 * time.Millisecond}
	m.clock = stepping

	boom := errors.New("boom")
	fake := &fakeRuntime{errs: map[string]error{
		opStartContainer: boom,
		opExec:           runtime.ErrUnavailable,
		opPing:           runtime.ErrUnavailable,
	}}
	rt := m.InstrumentRuntime(fake)

	callAll(t, rt) // EnsureImage found the image locally: no pull observed
	fake.pulled = true
	stepping.step = 3 * time.Second
	if _, err := rt.EnsureImage(context.Background(), "busybox", runtime.PullAlways); err != nil {
		t.Fatal(err)
	}
	fake.errs[opEnsureImage] = boom // a failed pull is an error, not a pull
	if _, err := rt.EnsureImage(context.Background(), "busybox", runtime.PullAlways); !errors.Is(err, boom) {
		t.Fatalf("EnsureImage error not passed through: %v", err)
	}
	if _, err := rt.StartContainer(context.Background(), "a"); !errors.Is(err, boom) {
		t.Fatalf("StartContainer error not passed through: %v", err)
	}

	wantCalls := "ensure_image list_images create_container start_container stop_container remove_container " +
		"container_status list_containers exec exits ping version ensure_image ensure_image start_container"
	if got := strings.Join(fake.calls, " "); got != wantCalls {
		t.Errorf("calls:\n got %s\nwant %s", got, wantCalls)
	}

	want := `
# HELP minilet_runtime_operations_errors_total Container runtime calls that returned an error, by operation.
# TYPE minilet_runtime_operations_errors_total counter
minilet_runtime_operations_errors_total{operation="container_status"} 0
minilet_runtime_operations_errors_total{operation="create_container"} 0
minilet_runtime_operations_errors_total{operation="ensure_image"} 1
minilet_runtime_operations_errors_total{operation="exec"} 1
minilet_runtime_operations_errors_total{operation="list_containers"} 0
minilet_runtime_operations_errors_total{operation="list_images"} 0
minilet_runtime_operations_errors_total{operation="list_snapshots"} 0
minilet_runtime_operations_errors_total{operation="ping"} 1
minilet_runtime_operations_errors_total{operation="remove_container"} 0
minilet_runtime_operations_errors_total{operation="remove_snapshot"} 0
minilet_runtime_operations_errors_total{operation="start_container"} 2
minilet_runtime_operations_errors_total{operation="stop_container"} 0
minilet_runtime_operations_errors_total{operation="update_resources"} 0
minilet_runtime_operations_errors_total{operation="version"} 0
# HELP minilet_image_pull_duration_seconds Duration of image ensures that pulled the image.
# TYPE minilet_image_pull_duration_seconds histogram
` + histogram("minilet_image_pull_duration_seconds", "", imagePullBuckets, 3) + `
# HELP minilet_runtime_operations_duration_seconds Duration of container runtime calls, by operation.
# TYPE minilet_runtime_operations_duration_seconds histogram
`
	for _, op := range []string{"container_status", "create_container", "exec", "list_containers", "list_images",
		"ping", "remove_container", "stop_container", "version"} {
		want += histogram("minilet_runtime_operations_duration_seconds", `operation="`+op+`"`, runtimeBuckets, 0.02)
	}
	want += histogram("minilet_runtime_operations_duration_seconds", `operation="ensure_image"`, runtimeBuckets, 0.02, 3, 3)
	want += histogram("minilet_runtime_operations_duration_seconds", `operation="start_container"`, runtimeBuckets, 0.02, 3)

	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"minilet_runtime_operations_errors_total", "minilet_runtime_operations_duration_seconds",
		"minilet_image_pull_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// TestInstrumentRuntimeWithRuntimetest runs the wrapper over the shared
// in-memory fake with the real clock: results pass through, every call is
// timed, and errors are counted by operation.
func TestInstrumentRuntimeWithRuntimetest(t *testing.T) {
	m, reg := newTest(t, nil)
	fake := runtimetest.New(time.Now)
	fake.AddImage("busybox", runtime.ImageConfig{})
	rt := m.InstrumentRuntime(fake)
	ctx := context.Background()

	if _, err := rt.EnsureImage(ctx, "busybox", runtime.PullIfNotPresent); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.EnsureImage(ctx, "missing", runtime.PullIfNotPresent); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("EnsureImage of a missing image: %v", err)
	}
	if err := rt.CreateContainer(ctx, runtime.ContainerSpec{ID: "a", Image: "busybox"}); err != nil {
		t.Fatal(err)
	}
	if pid, err := rt.StartContainer(ctx, "a"); err != nil || pid == 0 {
		t.Fatalf("StartContainer: %d %v", pid, err)
	}
	if c, err := rt.ContainerStatus(ctx, "a"); err != nil || c.State != runtime.StateRunning {
		t.Fatalf("ContainerStatus: %+v %v", c, err)
	}
	if _, err := rt.ContainerStatus(ctx, "nope"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("ContainerStatus of a missing container: %v", err)
	}
	ch, err := rt.Exits(ctx)
	if err != nil || ch == nil {
		t.Fatalf("Exits: %v %v", ch, err)
	}
	fake.Exit("a", 1)
	if ex := <-ch; ex.ContainerID != "a" || ex.ExitCode != 1 {
		t.Errorf("exit through the wrapper: %+v", ex)
	}

	if got := testutil.ToFloat64(m.runtimeErrors.WithLabelValues(opEnsureImage)); got != 1 {
		t.Errorf("ensure_image errors: %v", got)
	}
	if got := testutil.ToFloat64(m.runtimeErrors.WithLabelValues(opContainerStatus)); got != 1 {
		t.Errorf("container_status errors: %v", got)
	}
	if got := testutil.ToFloat64(m.runtimeErrors.WithLabelValues(opStartContainer)); got != 0 {
		t.Errorf("start_container errors: %v", got)
	}
	// One duration series per operation called; Exits is not one.
	if n := testutil.CollectAndCount(m.runtimeDuration); n != 4 {
		t.Errorf("duration series: got %d, want 4", n)
	}
	// The fake never pulls: the image pull histogram stays empty.
	want := `
# HELP minilet_image_pull_duration_seconds Duration of image ensures that pulled the image.
# TYPE minilet_image_pull_duration_seconds histogram
` + histogram("minilet_image_pull_duration_seconds", "", imagePullBuckets)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "minilet_image_pull_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// TestBuckets pins the ranges each histogram must cover.
func TestBuckets(t *testing.T) {
	for _, tc := range []struct {
		name      string
		b         []float64
		first, to float64
	}{
		{"pod start", podStartBuckets, 0.05, 60},
		{"probe", probeBuckets, 0.0005, 10},
		{"runtime", runtimeBuckets, 0.001, 30},
		{"image pull", imagePullBuckets, 0.1, 300},
	} {
		if tc.b[0] != tc.first || tc.b[len(tc.b)-1] != tc.to {
			t.Errorf("%s buckets %v: want %v..%v", tc.name, tc.b, tc.first, tc.to)
		}
		for i := 1; i < len(tc.b); i++ {
			if tc.b[i] <= tc.b[i-1] {
				t.Errorf("%s buckets not increasing: %v", tc.name, tc.b)
			}
		}
	}
}
