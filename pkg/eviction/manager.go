package eviction

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/node"
)

// DefaultInterval is how often the manager looks, as the kubelet's
// eviction monitoring period.
const DefaultInterval = 10 * time.Second

// cleanupTimeout bounds the wait for an evicted pod to release what it
// held before the next pass, as the kubelet's podCleanupTimeout.
const cleanupTimeout = 30 * time.Second

// Signals measures the node's signals (HostSignals).
type Signals interface {
	Observe(ctx context.Context) (obs Observations, dedicatedImageFs bool, err error)
}

// UsageMeter measures a pod (Meter).
type UsageMeter interface {
	Measure(ref PodRef) Usage
}

// Pods is the pod manager as eviction uses it.
type Pods interface {
	EvictionCandidates() []PodRef
	EvictPod(ctx context.Context, e Eviction) error
	// EvictionDone: the evicted pod's containers have stopped and its
	// volumes are gone.
	EvictionDone(uid types.UID) bool
}

// Reclaimer frees node-level resources before any pod is evicted: unused
// images (imagegc).
type Reclaimer interface {
	ReclaimImages(ctx context.Context) error
}

// Recorder takes what the manager reports: node events, evictions.
type Recorder interface {
	NodeEvent(typ, reason, message string)
	Evicted(signal string)
}

// Manager is the eviction loop.
type Manager struct {
	cfg      Config
	signals  Signals
	meter    UsageMeter
	pods     Pods
	reclaim  Reclaimer // nil: nothing to reclaim
	rec      Recorder
	log      *zap.Logger
	now      func() time.Time
	interval time.Duration
	// changed is called when the pressure conditions change.
	changed func()
	// taints are the node's taints now (nil: no NoExecute eviction).
	taints func() []v1.Taint
	wake   chan struct{}
	// tolerationEnd wakes the loop when the soonest toleration of a
	// NoExecute taint ends (owned by the loop).
	tolerationEnd *time.Timer

	mu       sync.Mutex
	state    State
	pressure node.Pressure
}

// Options are a Manager's optional parts.
type Options struct {
	Reclaim  Reclaimer
	Interval time.Duration // 0: DefaultInterval
	Now      func() time.Time
	// Changed is called (from the loop) when a pressure condition
	// changes.
	Changed func()
	// Taints are the node's taints now: pods of workload controllers
	// that do not tolerate its NoExecute taints are evicted, as the
	// taint eviction controller deletes them. nil: none.
	Taints func() []v1.Taint
}

// NewManager returns a Manager; Run starts it.
func NewManager(cfg Config, signals Signals, meter UsageMeter, pods Pods, rec Recorder, log *zap.Logger, o Options) *Manager {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Changed == nil {
		o.Changed = func() {}
	}
	return &Manager{cfg: cfg, signals: signals, meter: meter, pods: pods, reclaim: o.Reclaim, rec: rec, log: log,
		now: o.Now, interval: o.Interval, changed: o.Changed, taints: o.Taints, wake: make(chan struct{}, 1)}
}

// NodeChanged asks for a pass soon: the node's taints changed.
func (m *Manager) NodeChanged() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Pressure is the node's pressure conditions (node.EvictionView).
func (m *Manager) Pressure() node.Pressure {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pressure
}

// Reserved is what allocatable keeps back: the hard thresholds of
// memory.available and nodefs.available (node.EvictionView).
func (m *Manager) Reserved(memoryCapacity, fsCapacity int64) node.Reserved {
	r := node.Reserved{Set: true}
	for _, t := range m.cfg.Thresholds {
		if !t.Hard {
			continue
		}
		switch t.Signal {
		case SignalMemoryAvailable:
			r.Memory = t.Value.Of(memoryCapacity)
		case SignalNodeFsAvailable:
			r.EphemeralStorage = t.Value.Of(fsCapacity)
		}
	}
	return r
}

// AdmitMessage says whether pod may start under the pressure now (see
// the package function).
func (m *Manager) AdmitMessage(pod *v1.Pod, static bool) string {
	return AdmitMessage(m.Pressure(), pod, static)
}

// Run looks every interval until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		if err := m.Pass(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("eviction: cannot observe the node", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

// Pass is one look: assess the signals, then reclaim and evict at most
// one pod if a threshold calls for it.
func (m *Manager) Pass(ctx context.Context) error {
	m.evictTainted(ctx)
	obs, dedicated, err := m.signals.Observe(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	a := Assess(m.cfg, obs, m.state, m.now())
	m.state = a.State
	changed := a.Pressure != m.pressure
	m.pressure = a.Pressure
	m.mu.Unlock()
	if changed {
		m.log.Info("node pressure changed", zap.Bool("memoryPressure", a.Pressure.Memory),
			zap.Bool("diskPressure", a.Pressure.Disk), zap.Bool("pidPressure", a.Pressure.PID))
		m.changed()
	}
	if a.Acting == nil {
		return nil
	}
	t := *a.Acting
	res := resourceOf(t.Signal)
	m.rec.NodeEvent(v1.EventTypeWarning, "EvictionThresholdMet", fmt.Sprintf("Attempting to reclaim %s", res))
	m.log.Info("eviction threshold met: attempting to reclaim", zap.String("threshold", t.String()),
		zap.Int64("available", obs[t.Signal].Available))
	if isDisk(t.Signal) && m.reclaim != nil {
		if err := m.reclaim.ReclaimImages(ctx); err != nil {
			m.log.Warn("eviction: reclaiming images failed", zap.Error(err))
		}
		if obs, dedicated, err = m.signals.Observe(ctx); err != nil {
			return err
		}
		if len(thresholdsMet(onSignal(m.cfg.Thresholds, t.Signal), obs, true)) == 0 {
			m.log.Info("eviction: pressure relieved without evicting pods", zap.String("resource", string(res)))
			return nil
		}
	}
	var cands []Candidate
	for _, ref := range m.pods.EvictionCandidates() {
		cands = append(cands, Candidate{Pod: ref.Pod, Static: ref.Static, Usage: m.meter.Measure(ref)})
	}
	e := Choose(m.cfg, t, a.Met, obs, cands, dedicated)
	if e == nil {
		m.log.Warn("eviction: thresholds are met but no pod may be evicted", zap.String("threshold", t.String()),
			zap.Int("runningPods", len(cands)))
		return nil
	}
	if err := m.pods.EvictPod(ctx, *e); err != nil {
		m.log.Warn("eviction: cannot evict the pod", zap.String("namespace", e.Pod.Namespace), zap.String("pod", e.Pod.Name), zap.Error(err))
		return nil
	}
	m.rec.Evicted(string(t.Signal))
	m.waitForCleanup(ctx, e.Pod.UID)
	return nil
}

// evictTainted evicts the workload controllers' pods whose toleration of
// the node's NoExecute taints is over (TaintDeadline). Pods from manifest
// files stay: the taint eviction controller's delete of a static pod's
// mirror does not stop it either.
func (m *Manager) evictTainted(ctx context.Context) {
	if m.taints == nil {
		return
	}
	taints, now := m.taints(), m.now()
	soonest := time.Duration(0)
	for _, ref := range m.pods.EvictionCandidates() {
		if ref.Static {
			continue
		}
		at, ok := TaintDeadline(ref.Pod, taints, now)
		if !ok {
			continue
		}
		if d := at.Sub(now); d > 0 {
			if soonest == 0 || d < soonest {
				soonest = d
			}
			continue
		}
		if err := m.pods.EvictPod(ctx, taintEviction(ref.Pod)); err != nil {
			m.log.Warn("cannot evict a pod that does not tolerate the node's NoExecute taints", zap.String("namespace", ref.Pod.Namespace),
				zap.String("pod", ref.Pod.Name), zap.Error(err))
		}
	}
	if m.tolerationEnd != nil {
		m.tolerationEnd.Stop()
		m.tolerationEnd = nil
	}
	if soonest > 0 {
		// A toleration may end before the next tick: look then.
		m.tolerationEnd = time.AfterFunc(soonest, m.NodeChanged)
	}
}

// waitForCleanup waits (up to cleanupTimeout) until the evicted pod has
// released what it held, so the next pass measures without it.
func (m *Manager) waitForCleanup(ctx context.Context, uid types.UID) {
	deadline := time.NewTimer(cleanupTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !m.pods.EvictionDone(uid) {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			m.log.Warn("eviction: the evicted pod has not released its resources in time", zap.String("podUID", string(uid)))
			return
		case <-tick.C:
		}
	}
}

func onSignal(ts []Threshold, s Signal) []Threshold {
	var out []Threshold
	for _, t := range ts {
		if t.Signal == s {
			out = append(out, t)
		}
	}
	return out
}
