package metrics

import (
	"context"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// Operations, the values of the runtime metrics' operation label: the
// Runtime method names in snake_case.
const (
	opEnsureImage     = "ensure_image"
	opListImages      = "list_images"
	opCreateContainer = "create_container"
	opStartContainer  = "start_container"
	opStopContainer   = "stop_container"
	opUpdateResources = "update_resources"
	opRemoveContainer = "remove_container"
	opContainerStatus = "container_status"
	opListContainers  = "list_containers"
	opListSnapshots   = "list_snapshots"
	opRemoveSnapshot  = "remove_snapshot"
	opExec            = "exec"
	opPing            = "ping"
	opVersion         = "version"
)

// runtimeOperations lists every operation, so their error counters can
// start at zero.
var runtimeOperations = []string{
	opEnsureImage, opListImages, opCreateContainer, opStartContainer, opStopContainer, opUpdateResources,
	opRemoveContainer, opContainerStatus, opListContainers, opListSnapshots, opRemoveSnapshot,
	opExec, opPing, opVersion,
}

// InstrumentRuntime wraps rt so that every call's duration is observed in
// minilet_runtime_operations_duration_seconds{operation} and every error
// counted in minilet_runtime_operations_errors_total{operation}. An
// EnsureImage that pulled the image is also observed in
// minilet_image_pull_duration_seconds. Exits passes through: it is a
// stream, not a call with a duration. On a nil *Metrics it returns rt.
func (m *Metrics) InstrumentRuntime(rt runtime.Runtime) runtime.Runtime {
	if m == nil {
		return rt
	}
	return &instrumentedRuntime{rt: rt, m: m}
}

type instrumentedRuntime struct {
	rt runtime.Runtime
	m  *Metrics
}

var _ runtime.Runtime = (*instrumentedRuntime)(nil)

// observe records one call of op that began at start and returned err.
func (r *instrumentedRuntime) observe(op string, start time.Time, err error) time.Duration {
	took := r.m.clock.Now().Sub(start)
	r.m.runtimeDuration.WithLabelValues(op).Observe(took.Seconds())
	if err != nil {
		r.m.runtimeErrors.WithLabelValues(op).Inc()
	}
	return took
}

func (r *instrumentedRuntime) EnsureImage(ctx context.Context, ref string, policy runtime.PullPolicy, creds ...runtime.Credential) (runtime.Image, error) {
	start := r.m.clock.Now()
	img, err := r.rt.EnsureImage(ctx, ref, policy, creds...)
	took := r.observe(opEnsureImage, start, err)
	if err == nil && img.Pulled {
		r.m.imagePull.Observe(took.Seconds())
	}
	return img, err
}

func (r *instrumentedRuntime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	start := r.m.clock.Now()
	imgs, err := r.rt.ListImages(ctx)
	r.observe(opListImages, start, err)
	return imgs, err
}

func (r *instrumentedRuntime) CreateContainer(ctx context.Context, spec runtime.ContainerSpec) error {
	start := r.m.clock.Now()
	err := r.rt.CreateContainer(ctx, spec)
	r.observe(opCreateContainer, start, err)
	return err
}

func (r *instrumentedRuntime) StartContainer(ctx context.Context, id string) (uint32, error) {
	start := r.m.clock.Now()
	pid, err := r.rt.StartContainer(ctx, id)
	r.observe(opStartContainer, start, err)
	return pid, err
}

func (r *instrumentedRuntime) StopContainer(ctx context.Context, id, signal string, grace time.Duration) error {
	start := r.m.clock.Now()
	err := r.rt.StopContainer(ctx, id, signal, grace)
	r.observe(opStopContainer, start, err)
	return err
}

func (r *instrumentedRuntime) UpdateResources(ctx context.Context, id string, res runtime.Resources, labels map[string]string) error {
	start := r.m.clock.Now()
	err := r.rt.UpdateResources(ctx, id, res, labels)
	r.observe(opUpdateResources, start, err)
	return err
}

func (r *instrumentedRuntime) RemoveContainer(ctx context.Context, id string) error {
	start := r.m.clock.Now()
	err := r.rt.RemoveContainer(ctx, id)
	r.observe(opRemoveContainer, start, err)
	return err
}

func (r *instrumentedRuntime) ContainerStatus(ctx context.Context, id string) (runtime.Container, error) {
	start := r.m.clock.Now()
	c, err := r.rt.ContainerStatus(ctx, id)
	r.observe(opContainerStatus, start, err)
	return c, err
}

func (r *instrumentedRuntime) ListContainers(ctx context.Context, selector map[string]string) ([]runtime.Container, error) {
	start := r.m.clock.Now()
	cs, err := r.rt.ListContainers(ctx, selector)
	r.observe(opListContainers, start, err)
	return cs, err
}

func (r *instrumentedRuntime) ListSnapshots(ctx context.Context, prefix string) ([]string, error) {
	start := r.m.clock.Now()
	keys, err := r.rt.ListSnapshots(ctx, prefix)
	r.observe(opListSnapshots, start, err)
	return keys, err
}

func (r *instrumentedRuntime) RemoveSnapshot(ctx context.Context, key string) error {
	start := r.m.clock.Now()
	err := r.rt.RemoveSnapshot(ctx, key)
	r.observe(opRemoveSnapshot, start, err)
	return err
}

func (r *instrumentedRuntime) EndGroups(ctx context.Context, prefix string) error {
	return r.rt.EndGroups(ctx, prefix)
}

func (r *instrumentedRuntime) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	start := r.m.clock.Now()
	res, err := r.rt.Exec(ctx, id, cmd, timeout)
	r.observe(opExec, start, err)
	return res, err
}

// ExecStream is not timed: its duration is the length of a user's session,
// not the runtime's latency.
func (r *instrumentedRuntime) ExecStream(ctx context.Context, id string, cmd []string, s runtime.ExecStreams) (int32, error) {
	return r.rt.ExecStream(ctx, id, cmd, s)
}

func (r *instrumentedRuntime) AttachStdin(ctx context.Context, id string, s runtime.AttachStreams) error {
	return r.rt.AttachStdin(ctx, id, s)
}

func (r *instrumentedRuntime) Exits(ctx context.Context) (<-chan runtime.Exit, error) {
	return r.rt.Exits(ctx)
}

func (r *instrumentedRuntime) Ping(ctx context.Context) error {
	start := r.m.clock.Now()
	err := r.rt.Ping(ctx)
	r.observe(opPing, start, err)
	return err
}

func (r *instrumentedRuntime) Version(ctx context.Context) (string, error) {
	start := r.m.clock.Now()
	v, err := r.rt.Version(ctx)
	r.observe(opVersion, start, err)
	return v, err
}
