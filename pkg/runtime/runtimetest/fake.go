// Package runtimetest is an in-memory runtime.Runtime for unit tests of the
// pod logic: containers move between states when the test says so, and
// every call is recorded.
package runtimetest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// Fake is an in-memory runtime. The zero value is not usable; use New.
type Fake struct {
	mu         sync.Mutex
	containers map[string]*entry
	snapshots  map[string]bool // by key (the container ID), as containerd keeps them
	images     map[string]runtime.Image
	nextPID    uint32
	calls      []string
	exits      chan runtime.Exit
	now        func() time.Time
	// FailStart makes StartContainer fail for these container IDs.
	FailStart map[string]error
	// FailUpdate makes UpdateResources fail for these container IDs.
	FailUpdate map[string]error
}

type entry struct {
	spec    runtime.ContainerSpec
	c       runtime.Container
	hasTask bool   // a task exists (in c.State); false: none, as after a reboot
	stdin   []byte // what attach clients sent
}

var _ runtime.Runtime = (*Fake)(nil)

// New makes a Fake whose clock is now.
func New(now func() time.Time) *Fake {
	return &Fake{containers: map[string]*entry{}, snapshots: map[string]bool{}, images: map[string]runtime.Image{}, nextPID: 100,
		exits: make(chan runtime.Exit, 100), now: now, FailStart: map[string]error{}}
}

// AddImage makes ref present.
func (f *Fake) AddImage(ref string, cfg runtime.ImageConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[ref] = runtime.Image{Ref: ref, ID: "sha256:cfg-" + ref, Digest: "sha256:" + ref, Config: cfg}
}

func (f *Fake) record(s string) { f.calls = append(f.calls, s) }

// Calls returns the calls made so far, as "Op id".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Exit makes the running container id exit with code, as if its process
// ended, and emits the exit event.
func (f *Fake) Exit(id string, code int32) {
	f.mu.Lock()
	e, ok := f.containers[id]
	if !ok || e.c.State != runtime.StateRunning {
		f.mu.Unlock()
		panic(fmt.Sprintf("runtimetest: Exit of %s, which is not running", id))
	}
	e.c.State = runtime.StateExited
	e.c.ExitCode = code
	e.c.FinishedAt = f.now()
	ex := runtime.Exit{ContainerID: id, PID: e.c.PID, ExitCode: code, ExitedAt: e.c.FinishedAt}
	f.mu.Unlock()
	f.exits <- ex
}

// Spec returns the spec a container was created with.
func (f *Fake) Spec(id string) (runtime.ContainerSpec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.containers[id]
	if !ok {
		return runtime.ContainerSpec{}, false
	}
	return e.spec, true
}

func (f *Fake) EnsureImage(_ context.Context, ref string, policy runtime.PullPolicy, _ ...runtime.Credential) (runtime.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("EnsureImage " + ref)
	img, ok := f.images[ref]
	if !ok {
		return runtime.Image{}, fmt.Errorf("image %q: %w", ref, runtime.ErrNotFound)
	}
	return img, nil
}

func (f *Fake) ListImages(context.Context) ([]runtime.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runtime.Image
	for _, img := range f.images {
		out = append(out, img)
	}
	return out, nil
}

func (f *Fake) CreateContainer(_ context.Context, spec runtime.ContainerSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("CreateContainer " + spec.ID)
	if _, ok := f.containers[spec.ID]; ok {
		return fmt.Errorf("container %s: %w", spec.ID, runtime.ErrAlreadyExists)
	}
	if _, ok := f.images[spec.Image]; !ok {
		return fmt.Errorf("image %q: %w", spec.Image, runtime.ErrNotFound)
	}
	// A snapshot without its container is replaced, as the containerd
	// runtime does.
	f.snapshots[spec.ID] = true
	f.containers[spec.ID] = &entry{spec: spec, c: runtime.Container{
		ID: spec.ID, Image: spec.Image, ImageID: f.images[spec.Image].Digest, Labels: spec.Labels,
		CreatedAt: f.now(), State: runtime.StateCreated,
	}}
	return nil
}

func (f *Fake) StartContainer(_ context.Context, id string) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StartContainer " + id)
	if err := f.FailStart[id]; err != nil {
		return 0, err
	}
	e, ok := f.containers[id]
	if !ok {
		return 0, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	if e.c.State == runtime.StateRunning && e.hasTask {
		return e.c.PID, nil
	}
	if err := f.checkNamespaces(e.spec); err != nil {
		return 0, fmt.Errorf("start container %s: %w", id, err)
	}
	e.hasTask = true
	f.nextPID++
	e.c.PID = f.nextPID
	e.c.State = runtime.StateRunning
	e.c.StartedAt = f.now()
	e.c.ExitCode, e.c.FinishedAt = 0, time.Time{}
	return e.c.PID, nil
}

// checkNamespaces fails, as runc does, when the spec joins the namespaces
// of a process (/proc/<pid>/ns/...) that no running container has.
func (f *Fake) checkNamespaces(spec runtime.ContainerSpec) error {
	ns := spec.Namespaces
	for _, m := range []runtime.NamespaceMode{ns.Network, ns.IPC, ns.UTS, ns.PID} {
		var pid uint32
		if _, err := fmt.Sscanf(m.Path, "/proc/%d/ns/", &pid); err != nil {
			continue
		}
		alive := false
		for _, e := range f.containers {
			if e.hasTask && e.c.State == runtime.StateRunning && e.c.PID == pid {
				alive = true
			}
		}
		if !alive {
			return fmt.Errorf("namespace path: lstat %s: no such file or directory", m.Path)
		}
	}
	return nil
}

func (f *Fake) StopContainer(_ context.Context, id, signal string, grace time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("StopContainer %s %s %v", id, signal, grace))
	e, ok := f.containers[id]
	if !ok || e.c.State != runtime.StateRunning {
		return nil
	}
	e.c.State = runtime.StateExited
	e.c.ExitCode = 137
	e.c.FinishedAt = f.now()
	return nil
}

func (f *Fake) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveContainer " + id)
	delete(f.containers, id)
	delete(f.snapshots, id)
	return nil
}

func (f *Fake) ListSnapshots(_ context.Context, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.snapshots {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *Fake) RemoveSnapshot(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveSnapshot " + key)
	if _, used := f.containers[key]; used {
		return fmt.Errorf("remove snapshot %s: in use by its container", key)
	}
	delete(f.snapshots, key)
	return nil
}

func (f *Fake) EndGroups(_ context.Context, prefix string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("EndGroups " + prefix)
	return nil
}

// LeaveSnapshot makes a snapshot with no container, as a create that died
// half-way leaves it.
func (f *Fake) LeaveSnapshot(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshots[key] = true
}

// LeaveTaskCreated leaves the container id with a task made but never
// started, as a start that died half-way leaves it.
func (f *Fake) LeaveTaskCreated(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.containers[id]
	e.hasTask, e.c.State, e.c.PID = true, runtime.StateCreated, 0
}

// Reboot drops every task, as a host reboot does: containers and
// snapshots stay, with no task.
func (f *Fake) Reboot() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.containers {
		e.hasTask, e.c.State, e.c.PID = false, runtime.StateCreated, 0
		e.c.ExitCode, e.c.FinishedAt = 0, time.Time{}
	}
}

// UpdateResources keeps r as the running container's (ResourcesOf) and
// adds labels.
func (f *Fake) UpdateResources(_ context.Context, id string, r runtime.Resources, labels map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdateResources " + id)
	if err := f.FailUpdate[id]; err != nil {
		return err
	}
	e, ok := f.containers[id]
	if !ok {
		return fmt.Errorf("update resources of %s: %w", id, runtime.ErrNotFound)
	}
	if !e.hasTask || e.c.State != runtime.StateRunning {
		return fmt.Errorf("update resources of %s: no running task: %w", id, runtime.ErrNotFound)
	}
	e.spec.Resources = r
	l := maps.Clone(e.c.Labels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, labels)
	e.c.Labels = l
	return nil
}

// ResourcesOf is what cgroup settings container id has now.
func (f *Fake) ResourcesOf(id string) runtime.Resources {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.containers[id]; ok {
		return e.spec.Resources
	}
	return runtime.Resources{}
}

func (f *Fake) ContainerStatus(_ context.Context, id string) (runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.containers[id]
	if !ok {
		return runtime.Container{}, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return e.c, nil
}

func (f *Fake) ListContainers(_ context.Context, selector map[string]string) ([]runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runtime.Container
	for _, e := range f.containers {
		match := true
		for k, v := range selector {
			if e.c.Labels[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, e.c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *Fake) Exec(_ context.Context, id string, cmd []string, _ time.Duration) (runtime.ExecResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("Exec %s %q", id, cmd))
	return runtime.ExecResult{}, nil
}

// ExecStream runs two commands of the contract image in a running
// container: "cat" copies stdin to stdout, "false" exits 1. Others fail.
func (f *Fake) ExecStream(ctx context.Context, id string, cmd []string, s runtime.ExecStreams) (int32, error) {
	f.mu.Lock()
	f.record(fmt.Sprintf("ExecStream %s %q", id, cmd))
	e := f.containers[id]
	running := e != nil && e.hasTask && e.c.State == runtime.StateRunning
	f.mu.Unlock()
	if !running {
		return -1, fmt.Errorf("exec in %s: no running task: %w", id, runtime.ErrNotFound)
	}
	switch strings.Join(cmd, " ") {
	case "cat":
		if s.Stdin != nil && s.Stdout != nil {
			if _, err := io.Copy(s.Stdout, s.Stdin); err != nil {
				return -1, err
			}
		}
		return 0, ctx.Err()
	case "false":
		return 1, nil
	}
	return -1, fmt.Errorf("fake: exec %q: executable file not found", cmd)
}

// AttachStdin keeps what s.Stdin gives for the running container id,
// which must have been made with Stdin and TTY (StdinOf reads it).
func (f *Fake) AttachStdin(ctx context.Context, id string, s runtime.AttachStreams) error {
	f.mu.Lock()
	f.record("AttachStdin " + id)
	e := f.containers[id]
	ok := e != nil && e.hasTask && e.c.State == runtime.StateRunning && e.spec.Stdin && e.spec.TTY
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("container %s: its stdin is closed or was never open: %w", id, runtime.ErrNotFound)
	}
	data, err := io.ReadAll(s.Stdin)
	f.mu.Lock()
	e.stdin = append(e.stdin, data...)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return ctx.Err()
}

// StdinOf is what attach clients sent the container id.
func (f *Fake) StdinOf(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.containers[id]; e != nil {
		return string(e.stdin)
	}
	return ""
}

func (f *Fake) Exits(ctx context.Context) (<-chan runtime.Exit, error) { return f.exits, nil }
func (f *Fake) Ping(context.Context) error                             { return nil }
func (f *Fake) Version(context.Context) (string, error)                { return "fake 1", nil }
