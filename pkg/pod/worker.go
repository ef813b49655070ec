package pod

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/probe"
	"github.com/minilet/minilet/pkg/restart"
)

// worker owns one pod: a goroutine that syncs it whenever it is kicked (a
// spec change, a container exit, a back-off timer) until the pod is torn
// down or the daemon stops.
type worker struct {
	d      *deps
	podID  string
	paths  podsandbox.Paths
	log    *zap.Logger
	events *eventLog
	kick   chan struct{}
	done   chan struct{} // closed when the loop returns

	mu          sync.Mutex
	rec         podRecord // pod, file, hash, network
	blocked     *block    // not started: why (admission)
	graceOver   *int64    // drain's grace period, replacing the pod's
	terminating bool
	deletedAt   time.Time
	torndown    bool
	status      v1.PodStatus
	// synced: status comes from a look at the runtime (the first sync
	// is done), not from the worker's first guess.
	synced bool

	// Per container name, guarded by mu: the crash-loop gate and the last
	// start failure (both read by buildStatus).
	gates   map[string]gate
	lastErr map[string]containerError
	// Per container instance (ID), guarded by mu: probe results, and why
	// minilet is killing it (LivenessProbe, StartupProbe).
	probes     map[string]*probeState
	killReason map[string]string
	probeCh    chan probe.Update
	bg         sync.WaitGroup // background kills
	// Guarded by mu: the digest of the files last written to each
	// configMap, secret, downwardAPI or projected volume, and the last
	// reason a volume could not be set up.
	volWritten map[string]string
	volErr     string
	// pendingMeta, guarded by mu: labels and annotations for the loop to
	// take in place (setDesiredMeta).
	pendingMeta *manifest.Pod
	// Guarded by mu: a resize the manager allocated, for the loop to
	// take (setAllocation); why a resize waits (PodResizePending); the
	// failed cgroup updates by container ID; whether a resize was in
	// progress at the last status (for the ResizeCompleted event).
	pendingAlloc   *v1.Pod
	pendingResize  *resizePending
	resizeFailures map[string]resizeFailure
	resizing       bool
	// pendingEdits, guarded by mu: changes of the record (restart pod,
	// eviction) for the loop to save (requestEdit).
	pendingEdits []*recordEdit
	// volumesRemoved, guarded by mu: an evicted pod's volumes are gone.
	volumesRemoved bool
	// termMessages, guarded by mu: the termination message of each exited
	// attempt (by container ID), read once.
	termMessages map[string]string

	// Owned by the loop goroutine.
	firstSeen    time.Time
	lookedDeep   bool // snapshots were listed since the last failure
	startCounted bool // the pod's start duration was observed (or it was adopted)
	fresh        bool // added by this daemon, never synced: nothing in the runtime yet
}

// gate holds a container back between restarts. forID is the container
// attempt whose exit started the wait, so each exit is counted once.
type gate struct {
	forID string
	due   time.Time
	st    restart.State
}

// containerError is why a container could not be started.
type containerError struct {
	reason  string // ErrImagePull, CreateContainerError, ...
	message string
	due     time.Time // no new attempt before this
	st      restart.State
	// leftover: the runtime cannot make a task for container forID (see
	// runtime.ErrTaskLeftover); the next attempt gets a new ID at once.
	leftover bool
	forID    string
}

func newWorker(d *deps, rec podRecord, firstSeen time.Time) *worker {
	pod := rec.Pod
	w := &worker{
		d:              d,
		podID:          podsandbox.PodID(pod.UID),
		paths:          d.paths(pod),
		log:            d.log.With(zap.String("namespace", pod.Namespace), zap.String("pod", pod.Name)),
		events:         newEventLog(pod, d.now, d.events),
		kick:           make(chan struct{}, 1),
		done:           make(chan struct{}),
		rec:            rec,
		gates:          map[string]gate{},
		lastErr:        map[string]containerError{},
		probes:         map[string]*probeState{},
		killReason:     map[string]string{},
		resizeFailures: map[string]resizeFailure{},
		volWritten:     map[string]string{},
		termMessages:   map[string]string{},
		probeCh:        make(chan probe.Update, 16),
		firstSeen:      firstSeen,
	}
	// Until the first sync, every container is waiting to be created.
	w.status = w.buildStatus(rec, emptyObserved(), nil)
	return w
}

// key is the pod's namespace/name.
func (w *worker) key() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec.Pod.Namespace + "/" + w.rec.Pod.Name
}

func (w *worker) record() podRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec
}

// wake asks the loop to sync soon; it never blocks.
func (w *worker) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// terminate asks the worker to stop the pod gracefully and remove it.
func (w *worker) terminate() { w.terminateWithGrace(nil) }

// terminateWithGrace is terminate with a grace period that replaces the
// pod's (nil: the pod's own).
func (w *worker) terminateWithGrace(grace *int64) {
	w.mu.Lock()
	if grace != nil && *grace >= 0 {
		g := *grace
		w.graceOver = &g
	}
	if !w.terminating {
		w.terminating = true
		w.deletedAt = w.d.now()
	}
	w.mu.Unlock()
	w.wake()
}

func (w *worker) isTerminating() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.terminating
}

// run syncs the pod until it is torn down (it then reports on finished) or
// ctx ends (the daemon stops; the pod keeps running).
func (w *worker) run(ctx context.Context, finished chan<- *worker) {
	defer close(w.done)
	defer w.bg.Wait()
	defer w.stopProbes()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-timer.C:
		case u := <-w.probeCh:
			w.onProbe(u)
		}
		next := w.sync(ctx)
		w.mu.Lock()
		first := !w.synced
		w.synced = true
		w.mu.Unlock()
		if first {
			w.d.podChanged()
		}
		if w.isTorndown() {
			select {
			case finished <- w:
			case <-ctx.Done():
			}
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if next > 0 {
			timer.Reset(next)
		}
	}
}

// background runs f in a goroutine the worker waits for when it stops.
func (w *worker) background(f func()) {
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		f()
	}()
}

func (w *worker) isTorndown() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.torndown
}

// snapshot returns the pod with its current status, as the API shows it.
func (w *worker) snapshot() v1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.rec.Pod.DeepCopy()
	p.Status = *w.status.DeepCopy()
	if p.CreationTimestamp.IsZero() {
		p.CreationTimestamp = metav1.NewTime(w.firstSeen)
	}
	if w.terminating {
		t := metav1.NewTime(w.deletedAt)
		p.DeletionTimestamp = &t
		g := gracePeriod(p)
		p.DeletionGracePeriodSeconds = &g
	}
	return *p
}

func (w *worker) setStatus(s v1.PodStatus) {
	w.mu.Lock()
	changed := statusDigest(&w.status) != statusDigest(&s)
	w.status = s
	w.mu.Unlock()
	if changed {
		w.d.podChanged()
	}
}

// statusDigest is what the workload controllers read of a status: the
// phase, readiness and each container's state and restarts.
func statusDigest(s *v1.PodStatus) string {
	var b strings.Builder
	b.WriteString(string(s.Phase))
	for _, c := range s.Conditions {
		if c.Type == v1.PodReady {
			b.WriteString(" ready=" + string(c.Status))
		}
	}
	for _, list := range [][]v1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses} {
		for _, c := range list {
			state := "waiting"
			switch {
			case c.State.Running != nil:
				state = "running"
			case c.State.Terminated != nil:
				state = fmt.Sprintf("exited:%d", c.State.Terminated.ExitCode)
			}
			fmt.Fprintf(&b, " %s=%s/%d/%t", c.Name, state, c.RestartCount, c.Ready)
		}
	}
	return b.String()
}

func gracePeriod(p *v1.Pod) int64 {
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return *p.Spec.TerminationGracePeriodSeconds
	}
	return 30
}
