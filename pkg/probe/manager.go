package probe

import (
	"context"
	"sync"
	"time"

	"github.com/minilet/minilet/pkg/clock"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
)

// EventRecorder records an event about a container, e.g. Warning
// "Unhealthy" "Liveness probe failed: HTTP probe failed with statuscode:
// 500".
type EventRecorder interface {
	Event(t Target, eventType, reason, message string)
}

// Observer is told of every probe run that gave a result, for metrics
// (prober_probe_total, prober_probe_duration_seconds). Runs where the
// prober itself erred are not observed, as the kubelet.
type Observer interface {
	ObserveProbe(t Target, kind Kind, result Result, took time.Duration)
}

// Options configure a Manager. Every field may be left zero.
type Options struct {
	// UserAgent is sent by HTTP and gRPC probes, "minilet-probe/<version>".
	UserAgent string
	Clock     clock.Clock // clock.Real if nil
	Observer  Observer
	Log       *zap.Logger
}

// DefaultUserAgent is used when Options.UserAgent is empty.
const DefaultUserAgent = "minilet-probe"

// Manager runs the probe workers of container instances. It is safe for
// concurrent use.
type Manager struct {
	prober   *prober
	clock    clock.Clock
	observer Observer
	log      *zap.Logger

	mu          sync.Mutex
	instances   map[string]*instance // by container ID
	terminating map[string]bool      // UIDs of terminating pods that have instances
}

// instance is one container instance with probes: its workers and the two
// signals they share.
type instance struct {
	podUID      string
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	started     chan struct{} // closed when the startup probe succeeds, or at once without one
	startOnce   sync.Once
	terminating chan struct{} // closed when the pod starts terminating
	termOnce    sync.Once
	probeCtx    context.Context // for liveness and startup probes, canceled when terminating
	cancelProbe context.CancelFunc
}

func (in *instance) markStarted() { in.startOnce.Do(func() { close(in.started) }) }

func (in *instance) markTerminating() {
	in.termOnce.Do(func() {
		close(in.terminating)
		in.cancelProbe()
	})
}

// NewManager returns a Manager whose exec probes run through exec.
func NewManager(exec Execer, opts Options) *Manager {
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	return &Manager{
		prober:      newProber(exec, opts.UserAgent),
		clock:       opts.Clock,
		observer:    opts.Observer,
		log:         opts.Log,
		instances:   make(map[string]*instance),
		terminating: make(map[string]bool),
	}
}

// AddContainer starts one worker per probe c defines, for the container
// instance t. Workers send an Update on out when a result changes (never
// the initial result, see Kind.Initial), record their events (Unhealthy,
// ProbeWarning) on events (nil: none), and end with ctx or
// RemoveContainer. A zero t.StartedAt means now. Adding an instance that
// is already there does nothing.
func (m *Manager) AddContainer(ctx context.Context, t Target, c *v1.Container, out chan<- Update, events EventRecorder) {
	if c == nil || (c.StartupProbe == nil && c.LivenessProbe == nil && c.ReadinessProbe == nil) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.instances[t.ContainerID]; ok {
		return
	}
	if t.StartedAt.IsZero() {
		t.StartedAt = m.clock.Now()
	}
	ictx, cancel := context.WithCancel(ctx)
	pctx, cancelProbe := context.WithCancel(ictx)
	inst := &instance{
		podUID:      t.PodUID,
		cancel:      cancel,
		started:     make(chan struct{}),
		terminating: make(chan struct{}),
		probeCtx:    pctx,
		cancelProbe: cancelProbe,
	}
	if c.StartupProbe == nil {
		inst.markStarted()
	}
	if m.terminating[t.PodUID] {
		inst.markTerminating()
	}
	m.instances[t.ContainerID] = inst

	log := m.log.With(zap.String("namespace", t.Namespace), zap.String("pod", t.Pod),
		zap.String("container", t.Container), zap.String("containerID", shortID(t.ContainerID)))
	for _, p := range []struct {
		kind Kind
		spec *v1.Probe
	}{{Startup, c.StartupProbe}, {Liveness, c.LivenessProbe}, {Readiness, c.ReadinessProbe}} {
		if p.spec == nil {
			continue
		}
		params := paramsFor(p.kind, p.spec)
		w := newWorker(p.kind, t, params, m.prober.probeFor(t, c, p.spec, params.timeout))
		w.inst = inst
		w.clock = m.clock
		w.events = events
		w.observer = m.observer
		w.out = out
		w.log = log.With(zap.String("probe", string(p.kind)))
		inst.wg.Add(1)
		go func() {
			defer inst.wg.Done()
			w.run(ictx)
		}()
	}
}

// RemoveContainer stops the workers of the instance containerID and waits
// for them to exit. A probe in flight is canceled.
func (m *Manager) RemoveContainer(containerID string) {
	m.mu.Lock()
	inst, ok := m.instances[containerID]
	if ok {
		delete(m.instances, containerID)
		if m.terminating[inst.podUID] && !m.hasPodLocked(inst.podUID) {
			delete(m.terminating, inst.podUID)
		}
	}
	m.mu.Unlock()
	if !ok {
		return
	}
	inst.cancel()
	inst.wg.Wait()
}

// Terminating marks the pod podUID as terminating: its liveness and
// startup workers stop at once (a probe in flight is canceled and its
// result dropped), setting their result to Success as the kubelet does for
// a quiet shutdown (an Update only if that changes it: a startup probe
// that had not succeeded yet). Readiness probes go on; the consumer
// reports readiness false itself. Instances of the pod added later start
// terminating, until the pod's last instance is removed.
func (m *Manager) Terminating(podUID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, inst := range m.instances {
		if inst.podUID == podUID {
			inst.markTerminating()
			m.terminating[podUID] = true
		}
	}
}

func (m *Manager) hasPodLocked(podUID string) bool {
	for _, inst := range m.instances {
		if inst.podUID == podUID {
			return true
		}
	}
	return false
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
