package pod

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/clock"
	"github.com/minilet/minilet/pkg/devices"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/node"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
)

// Config is what the pod logic needs to know of the daemon's setup.
type Config struct {
	RootDir    string // state: <RootDir>/pods/<uid>
	RunDir     string // volatile state: <RunDir>/pods/<uid>
	PodLogDir  string
	PauseImage string
	NodeName   string
	HostIP     string
	CgroupRoot string // parent of every pod's cgroup, e.g. /minilet/<containerd namespace>
	// SeccompProfileRoot holds Localhost seccomp profiles ("": the
	// kubelet's /var/lib/kubelet/seccomp).
	SeccompProfileRoot string
	// VolumeDir holds the PersistentVolumeClaims' directories
	// (<VolumeDir>/<namespace>/<claim>); "": <RootDir>/volumes.
	VolumeDir  string
	BackoffMax time.Duration // cap of the crash-loop back-off (0: 300s)
	// ParallelSandboxes bounds how many pod sandboxes are made at once
	// (0: no bound; see startSlots).
	ParallelSandboxes int
	// CrashPoint, for fault tests only, names a step at which the daemon
	// kills itself with SIGKILL (see crashpoint.go).
	CrashPoint string
}

// DevicePool tells what extended resources the node has now
// (devices.Inventory).
type DevicePool interface {
	Pool() devices.Pool
}

// Observer is told what the pod logic does, for metrics (pkg/metrics'
// *Metrics implements it).
type Observer interface {
	ContainerRestarted(namespace, pod, container, reason string)
	ObservePodStart(took time.Duration)
	ManifestError()
	ForgetPod(namespace, pod string)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) ContainerRestarted(string, string, string, string) {}
func (nopObserver) ObservePodStart(time.Duration)                     {}
func (nopObserver) ManifestError()                                    {}
func (nopObserver) ForgetPod(string, string)                          {}

// deps are shared by the manager and its workers.
type deps struct {
	cfg     Config
	rt      runtime.Runtime
	net     Network
	host    Host
	prober  Prober // nil: no probes run
	obs     Observer
	events  EventSink // nil: events stay local
	log     *zap.Logger
	clock   clock.Clock
	backoff restart.Backoff
	// slots bounds the sandboxes made at once (nil: no bound).
	slots *startSlots
	// objects are the ConfigMaps, Secrets and claims of the latest
	// desired State.
	objects atomic.Pointer[manifest.ObjectSet]
	node    NodeView // nil: no node view
	// changed is signalled when a pod's status changes in a way the
	// workload controllers read, or a pod is gone (Manager.Changed);
	// each of subs likewise (Manager.Subscribe).
	changed chan struct{}
	subsMu  sync.Mutex
	subs    []chan struct{}
}

func (d *deps) now() time.Time { return d.clock.Now() }

// podChanged signals changed and every subscriber; it never blocks.
func (d *deps) podChanged() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
	d.subsMu.Lock()
	defer d.subsMu.Unlock()
	for _, c := range d.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// objectSet is the current set of objects (never nil).
func (d *deps) objectSet() *manifest.ObjectSet {
	if s := d.objects.Load(); s != nil {
		return s
	}
	return manifest.NewObjectSet(nil)
}

// allocatable is the node's allocatable resources (nil without a node
// view).
func (d *deps) allocatable() v1.ResourceList {
	if d.node == nil {
		return nil
	}
	return d.node.Allocatable()
}

// paths lays out a pod's files.
func (d *deps) paths(pod *v1.Pod) podsandbox.Paths {
	p := podsandbox.NewPaths(d.cfg.RootDir, d.cfg.RunDir, d.cfg.PodLogDir, pod)
	if d.cfg.VolumeDir != "" {
		p.ClaimRoot = d.cfg.VolumeDir
	}
	return p
}

// Manager runs one worker per pod and reconciles them with the desired set.
type Manager struct {
	d        *deps
	finished chan *worker
	resync   chan struct{}
	node     NodeView    // nil: no admission, no node view
	cordon   CordonState // nil: cannot cordon
	sysctls  *node.SysctlAllowlist
	hostSec  node.HostSecurity
	devices  DevicePool   // nil: no extended resources
	pressure PressureView // nil: no node-pressure admission

	mu          sync.Mutex
	active      map[string]*worker // by namespace/name
	terminating map[*worker]struct{}
	desired     *manifest.State
	draining    *drainRequest // set by Drain until every pod is stopped
	lastLoop    time.Time
	objSeen     map[string]time.Time // object key → when this daemon first saw it
}

// Deps are what a Manager works through. Runtime, Network, Host and Log
// are required; the others may be nil.
type Deps struct {
	Runtime  runtime.Runtime
	Network  Network
	Host     Host
	Prober   Prober      // nil: no probes run
	Observer Observer    // nil: nothing observed
	Node     NodeView    // nil: no admission, no node view
	Cordon   CordonState // nil: cannot cordon
	// Sysctls admits pods' sysctls (nil: the safe set only).
	Sysctls *node.SysctlAllowlist
	// Devices is this node's extended resources (nil: none).
	Devices DevicePool
	// HostSecurity says whether this host has AppArmor and SELinux; a pod
	// asking for one the host lacks is refused.
	HostSecurity node.HostSecurity
	// Events is told the events of the pods from an API server (nil:
	// they stay local).
	Events EventSink
	Clock  clock.Clock // nil: clock.Real
	Log    *zap.Logger
}

// NewManager makes a Manager. Run starts it.
func NewManager(cfg Config, d Deps) *Manager {
	obs := d.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	clk := d.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	sysctls := d.Sysctls
	if sysctls == nil {
		sysctls, _ = node.NewSysctlAllowlist(nil)
	}
	return &Manager{
		d: &deps{cfg: cfg, rt: d.Runtime, net: d.Network, host: d.Host, prober: d.Prober, obs: obs, log: d.Log, clock: clk, events: d.Events,
			backoff: restart.DefaultBackoff(cfg.BackoffMax), slots: newStartSlots(cfg.ParallelSandboxes, slotMaxWait), node: d.Node,
			changed: make(chan struct{}, 1)},
		node:        d.Node,
		cordon:      d.Cordon,
		sysctls:     sysctls,
		hostSec:     d.HostSecurity,
		devices:     d.Devices,
		finished:    make(chan *worker),
		resync:      make(chan struct{}, 1),
		active:      map[string]*worker{},
		terminating: map[*worker]struct{}{},
	}
}

// Run adopts the pods that are already running, then reconciles them with
// every desired State it receives until ctx ends. ready is called once,
// after the first State has been applied. When ctx ends, workers stop but
// their pods keep running.
func (m *Manager) Run(ctx context.Context, states <-chan manifest.State, ready func()) error {
	workerCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	adopted, err := m.adopt(ctx)
	if err != nil {
		return err
	}
	exits, err := m.d.rt.Exits(ctx)
	if err != nil {
		return fmt.Errorf("subscribe to container exits: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(w *worker) {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(workerCtx, m.finished) }()
	}
	started := false
	heartbeat := time.NewTicker(5 * time.Second)
	defer heartbeat.Stop()
	for {
		m.mu.Lock()
		m.lastLoop = m.d.now()
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
		case st, ok := <-states:
			if !ok {
				states = nil
				continue
			}
			m.mu.Lock()
			m.countNewErrors(st.Errors)
			m.setObjects(st.Objects)
			m.desired = &st
			m.mu.Unlock()
			m.reconcile(start)
			if !started {
				started = true
				// Adopted pods that reconcile kept need their loops too.
				for _, w := range adopted {
					if !m.isTracked(w) {
						continue
					}
					start(w)
				}
				adopted = nil
				if ready != nil {
					ready()
				}
			}
		case <-m.resync:
			m.reconcile(start)
		case w := <-m.finished:
			rec := w.record()
			m.d.obs.ForgetPod(rec.Pod.Namespace, rec.Pod.Name)
			m.mu.Lock()
			delete(m.terminating, w)
			if m.active[w.key()] == w {
				delete(m.active, w.key())
			}
			m.mu.Unlock()
			m.d.podChanged()
			m.reconcile(start)
		case ex, ok := <-exits:
			if !ok {
				exits = nil
				continue
			}
			m.routeExit(ex)
		}
	}
}

func (m *Manager) isTracked(w *worker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active[w.key()] == w {
		return true
	}
	_, ok := m.terminating[w]
	return ok
}

// reconcile carries out planPods: the desired set against the workers.
func (m *Manager) reconcile(start func(*worker)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.desired == nil {
		return
	}
	in := podsInput{
		desired:     m.desired.Pods,
		active:      make(map[string]activePod, len(m.active)),
		terminating: map[string]bool{},
		held:        map[string]bool{},
		cordoned:    m.cordoned(),
		draining:    m.draining,
	}
	for key, w := range m.active {
		rec := w.record()
		in.active[key] = activePod{hash: rec.Hash, file: rec.File, blocked: w.blockedBy() != nil, pod: rec.Pod, resizePending: w.resizeWaits()}
		if m.desired.Holds(rec.File) {
			in.held[rec.File] = true
		}
	}
	for w := range m.terminating {
		in.terminating[w.key()] = true
	}
	for _, c := range planPods(in) {
		m.applyChange(c, start)
	}
	if d := m.draining; d != nil && !d.applied {
		d.applied = true
	}
}

// applyChange carries out one change of planPods. Call with m.mu held.
func (m *Manager) applyChange(c change, start func(*worker)) {
	w := m.active[c.key]
	switch c.kind {
	case chKeepCordoned:
		w.events.record(v1.EventTypeWarning, "FailedScheduling", "the manifest changed, but the node is cordoned: the pod is replaced once it is uncordoned", "")
	case chReadmit:
		if b := w.blockedBy(); b != nil && b.phase == v1.PodFailed {
			// Refused by admission (NodeAffinity, OutOf<resource>,
			// SysctlForbidden...): Failed for good, as on the kubelet.
			return
		}
		w.setBlock(m.admit(w))
	case chUpdateMeta:
		w.log.Info("manifest changed labels or annotations only; updating the pod in place")
		w.setDesiredMeta(c.pod)
	case chResize:
		m.resize(w, c.pod.Pod)
	case chKeepHeld:
		if manifest.IsAPIPod(w.record().Pod) {
			return // the API server's pods are not known yet
		}
		// Its file is broken: keep the pod as it is, and say why on it.
		w.events.record(v1.EventTypeWarning, "FailedManifest",
			"manifest has an error; the pod keeps running its last valid version: "+fileError(m.desired.Errors, w.record().File), "")
	case chStop:
		switch c.reason {
		case "removed":
			w.log.Info("manifest removed; stopping pod")
		case "changed":
			w.log.Info("manifest changed; replacing pod", zap.String("oldUID", string(w.record().Pod.UID)))
		case "drain":
			w.log.Info("draining; stopping pod")
		case "deleted":
			w.log.Info("pod deleted in the API server; stopping it", zap.Int64p("gracePeriod", c.grace))
		}
		delete(m.active, c.key)
		m.terminating[w] = struct{}{}
		w.terminateWithGrace(c.grace)
	case chAdd:
		pod := c.pod.Pod.DeepCopy()
		now := m.d.now()
		pod.CreationTimestamp = metav1.NewTime(now)
		w := newWorker(m.d, podRecord{Pod: pod, File: c.pod.File, Hash: c.pod.Hash}, now)
		w.fresh = !m.hasRecord(w)
		w.log.Info("pod added", zap.String("file", c.pod.File), zap.String("uid", string(pod.UID)))
		if b := m.admit(w); b != nil {
			w.setBlock(b)
		}
		if access := hostAccess(pod); len(access) > 0 {
			w.log.Warn("pod has access to the host", zap.Strings("access", access))
		}
		m.active[c.key] = w
		start(w)
	}
}

// setObjects makes objs the current ConfigMaps, Secrets and claims, and
// tells the workers of pods that read one that changed. Call with m.mu
// held.
func (m *Manager) setObjects(objs []manifest.Object) {
	var old []manifest.Object
	if m.desired != nil {
		old = m.desired.Objects
	}
	m.d.objects.Store(manifest.NewObjectSet(objs))
	m.noteObjects(objs)
	changed := changedObjects(old, objs)
	if len(changed) == 0 {
		return
	}
	for _, w := range m.allLocked() {
		if refersToAny(w.record().Pod, changed) {
			w.objectsChanged()
		}
	}
}

// countNewErrors tells the observer of every manifest error that was not
// in the previous State. Call with m.mu held.
func (m *Manager) countNewErrors(errs []manifest.FileError) {
	seen := map[string]bool{}
	if m.desired != nil {
		for _, e := range m.desired.Errors {
			seen[e.Error()] = true
		}
	}
	for _, e := range errs {
		if !seen[e.Error()] {
			m.d.obs.ManifestError()
		}
	}
}

func fileError(errs []manifest.FileError, file string) string {
	for _, e := range errs {
		if e.File == file {
			return e.Err.Error()
		}
	}
	return file
}

// hasRecord reports whether a pod.json exists for w's pod: a pod with the
// same UID that adopt did not take (e.g. its record was unreadable) may have
// left containers behind.
func (m *Manager) hasRecord(w *worker) bool {
	_, err := os.Stat(w.paths.PodFile())
	return err == nil
}

// routeExit wakes the worker of the container that exited. An empty exit
// means the event stream was re-established: every worker re-checks.
func (m *Manager) routeExit(ex runtime.Exit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.allLocked() {
		if ex.ContainerID == "" || strings.HasPrefix(ex.ContainerID, w.podID+"-") {
			w.wake()
		}
	}
}

func (m *Manager) allLocked() []*worker {
	out := make([]*worker, 0, len(m.active)+len(m.terminating))
	for _, w := range m.active {
		out = append(out, w)
	}
	for w := range m.terminating {
		out = append(out, w)
	}
	return out
}

// Pods returns every pod the manager runs or is stopping, with its status,
// sorted by namespace and name.
func (m *Manager) Pods() []v1.Pod {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	out := make([]v1.Pod, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.snapshot())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].DeletionTimestamp == nil && out[j].DeletionTimestamp != nil
	})
	return out
}

// SyncedPods is Pods without the pods whose status is still a guess
// (their worker has not looked at the runtime yet, as right after a
// daemon restart): what the workload controllers may judge.
func (m *Manager) SyncedPods() []v1.Pod {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	out := make([]v1.Pod, 0, len(ws))
	for _, w := range ws {
		w.mu.Lock()
		synced := w.synced
		w.mu.Unlock()
		if synced {
			out = append(out, w.snapshot())
		}
	}
	return out
}

// Changed is signalled (without blocking: one signal may stand for many
// changes) when a pod's phase, readiness or a container's state changes,
// or a pod is gone. The workload controllers wait on it.
func (m *Manager) Changed() <-chan struct{} { return m.d.changed }

// Subscribe returns a channel signalled as Changed is, for another
// reader (the mirror pods of cluster mode).
func (m *Manager) Subscribe() <-chan struct{} {
	c := make(chan struct{}, 1)
	m.d.subsMu.Lock()
	m.d.subs = append(m.d.subs, c)
	m.d.subsMu.Unlock()
	return c
}

// EachStatus calls f with the status of every pod, in no order, without
// copying it: f must only read it, not keep it, and not call the Manager.
func (m *Manager) EachStatus(f func(*v1.PodStatus)) {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		f(&w.status)
		w.mu.Unlock()
	}
}

// Events returns the events of the pod namespace/name, oldest first.
func (m *Manager) Events(namespace, name string) []v1.Event {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	var out []v1.Event
	for _, w := range ws {
		if w.key() == namespace+"/"+name {
			out = append(out, w.events.list()...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastTimestamp.Before(&out[j].LastTimestamp) })
	return out
}

// ManifestErrors returns the current problems of the manifest source, one
// line per bad file.
func (m *Manager) ManifestErrors() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.desired == nil {
		return nil
	}
	out := make([]string, 0, len(m.desired.Errors))
	for _, e := range m.desired.Errors {
		out = append(out, e.Error())
	}
	return out
}

// maxLoopIdle is how long the manager loop may go without turning before
// it is reported stuck; it turns at least every 5 seconds.
const maxLoopIdle = time.Minute

// Healthy fails when the runtime does not answer or the loop is stuck.
func (m *Manager) Healthy(ctx context.Context) error {
	if err := m.d.rt.Ping(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	last := m.lastLoop
	m.mu.Unlock()
	if !last.IsZero() && m.d.now().Sub(last) > maxLoopIdle {
		return fmt.Errorf("pod manager loop stuck for %s", m.d.now().Sub(last).Round(time.Second))
	}
	return nil
}
