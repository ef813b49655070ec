package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/minilet/minilet/pkg/clock"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/workload/names"
)

// PodSource is the pod manager as the controllers see it: the pods it runs
// whose status is known (SyncedPods; a pod it lacks is one whose status is
// not known yet), and a signal when a status changed.
type PodSource interface {
	SyncedPods() []v1.Pod
	Changed() <-chan struct{}
}

// NodeSource is this node as admission sees it (node.Reporter): the
// DaemonSet controller runs a pod only where it fits.
type NodeSource interface {
	AdmissionNode() *v1.Node
}

// ClaimRemover removes the data of a claim no pod mounts (the
// StatefulSet retention policy Delete); it fails while a pod mounts it.
type ClaimRemover interface {
	RemoveClaim(namespace, name string) error
}

// Config is what the Manager needs of the daemon's setup.
type Config struct {
	// Dir holds the records (<root-dir>/workloads).
	Dir string
	// Manifest finishes the controllers' pods as the source finishes the
	// files' (its NodeName).
	Manifest manifest.Options
	// Node: nil, every DaemonSet fits. Claims: nil, claim data is never
	// removed.
	Node   NodeSource
	Claims ClaimRemover
}

// maxEvents is how many events a workload keeps.
const maxEvents = 100

// Manager runs the controllers between the manifest source and the pod
// manager.
type Manager struct {
	cfg   Config
	pods  PodSource
	clock clock.Clock
	log   *zap.Logger
	store store

	mu      sync.Mutex
	records map[string]*Record // by Workload.Key
	saved   map[string][]byte  // the records as last written
	events  map[string][]Event
	last    *manifest.State // the last State received
	kick    chan struct{}   // a pass is wanted (a manual Job)
}

// NewManager makes a Manager; Run starts it. clk nil is the real clock.
func NewManager(cfg Config, pods PodSource, clk clock.Clock, log *zap.Logger) *Manager {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Manager{cfg: cfg, pods: pods, clock: clk, log: log, store: store{dir: cfg.Dir},
		records: map[string]*Record{}, saved: map[string][]byte{}, events: map[string][]Event{}, kick: make(chan struct{}, 1)}
}

// Run loads the records, then for every State from in (and whenever a pod
// changes or a controller asked to be woken) runs the controllers and
// sends on out the State with their pods added. It returns when ctx ends.
func (m *Manager) Run(ctx context.Context, in <-chan manifest.State, out chan<- manifest.State) error {
	recs, errs := m.store.load()
	for _, err := range errs {
		m.log.Error("cannot load a workload record", zap.Error(err))
	}
	m.mu.Lock()
	for _, r := range recs {
		m.records[r.key()] = r
		if data, err := json.Marshal(r); err == nil {
			m.saved[r.key()] = data
		}
	}
	m.mu.Unlock()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var lastSent []string
	for {
		select {
		case <-ctx.Done():
			return nil
		case st, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			m.mu.Lock()
			m.last = &st
			m.mu.Unlock()
			lastSent = nil // a new State is always passed on
		case <-m.pods.Changed():
		case <-m.kick:
		case <-timer.C:
		}
		m.mu.Lock()
		if m.last == nil {
			m.mu.Unlock()
			continue
		}
		st, wake := m.pass()
		m.mu.Unlock()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if wake > 0 {
			timer.Reset(wake)
		}
		sent := podKeys(st.Pods)
		if lastSent != nil && slices.Equal(sent, lastSent) {
			continue
		}
		select {
		case out <- st:
			lastSent = sent
		case <-ctx.Done():
			return nil
		}
	}
}

func podKeys(pods []manifest.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Pod.Namespace + "/" + p.Pod.Name + " " + p.Hash
	}
	return out
}

// pass runs every controller once and returns the State to send and when
// to pass again. Call with m.mu held.
func (m *Manager) pass() (manifest.State, time.Duration) {
	in := *m.last
	now := m.clock.Now()
	obs := NewObserved(m.pods.SyncedPods())
	taken := map[string]bool{}
	for _, p := range in.Pods {
		taken[p.Pod.Namespace+"/"+p.Pod.Name] = true
	}
	for _, r := range m.records {
		for _, p := range r.pods() {
			taken[p.Namespace+"/"+p.Name] = true
		}
	}
	e := &env{now: now, uid: func() types.UID { return uuid.NewUUID() }}

	want := map[string]manifest.Workload{}
	for _, w := range in.Workloads {
		want[w.Key()] = w
	}
	// A workload whose file turned bad while the daemon was down runs on
	// from its record, as such a file's pods keep running.
	for k, r := range m.records {
		if _, ok := want[k]; !ok && in.Holds(r.Object.File) {
			want[k] = r.Object
		}
	}
	for k, r := range m.records {
		if _, ok := want[k]; !ok {
			if !r.Deleted {
				m.log.Info("workload removed; deleting its pods", zap.String("workload", k))
			}
			if ss := r.Object.StatefulSet; ss != nil && r.Set != nil &&
				ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				// Its claims go too, once its pods are gone: the record
				// stays (without pods) until their data is removed.
				r.Deleted = true
				r.Set.Pods = nil
				for _, c := range slices.Clone(r.Set.Claims) {
					r.Set.dropClaim(c)
				}
				m.removeClaims(r)
				if len(r.Set.ClaimsToDelete) > 0 {
					m.save(r)
					continue
				}
			}
			if err := m.store.remove(r); err != nil {
				m.log.Error("cannot remove a workload record", zap.Error(err))
			}
			delete(m.records, k)
			delete(m.saved, k)
			delete(m.events, k)
		}
	}

	var wake time.Duration
	out := in
	out.Pods = slices.Clone(in.Pods)
	out.Objects = slices.Clone(in.Objects)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w := want[k]
		r := m.record(w, now)
		ns := w.Meta().Namespace
		e.name = func(prefix string) string {
			for {
				n := names.Generate(prefix)
				if !taken[ns+"/"+n] {
					taken[ns+"/"+n] = true
					return n
				}
			}
		}
		res := m.sync(r, obs, e)
		for i := range res.events {
			res.events[i].Time = now
		}
		m.events[k] = append(m.events[k], res.events...)
		if n := len(m.events[k]); n > maxEvents {
			m.events[k] = slices.Clone(m.events[k][n-maxEvents:])
		}
		for _, ev := range res.events {
			m.log.Info(ev.Message, zap.String("workload", k), zap.String("reason", ev.Reason), zap.String("object", ev.Kind+"/"+ev.Name))
		}
		if res.wake > 0 && (wake == 0 || res.wake < wake) {
			wake = res.wake
		}
		if !m.save(r) {
			r = m.lastSaved(k, r)
		}
		m.removeClaims(r)
		if ss := r.Object.StatefulSet; ss != nil {
			for _, c := range statefulClaims(ss, r) {
				o, err := manifest.ControllerClaim(&c, r.Object.File)
				if err != nil {
					m.log.Error("cannot make a StatefulSet's claim", zap.String("workload", k), zap.Error(err))
					continue
				}
				out.Objects = append(out.Objects, o)
			}
		}
		for _, p := range r.pods() {
			fp, err := manifest.ControllerPod(p.DeepCopy(), r.Object.File, m.cfg.Manifest)
			if err != nil {
				m.log.Error("cannot make a controller's pod", zap.String("workload", k), zap.Error(err))
				continue
			}
			out.Pods = append(out.Pods, fp)
		}
	}
	slices.SortFunc(out.Objects, func(a, b manifest.Object) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortFunc(out.Pods, func(a, b manifest.Pod) int {
		if c := strings.Compare(a.Pod.Namespace, b.Pod.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Pod.Name, b.Pod.Name)
	})
	return out, wake
}

// record returns the workload's record, made on first sight, with the
// workload's latest version in it.
func (m *Manager) record(w manifest.Workload, now time.Time) *Record {
	k := w.Key()
	r, ok := m.records[k]
	if ok && r.Deleted {
		ok = false // deleted, and made again
	}
	if ok && w.Job != nil && r.Object.Job != nil && !sameJobRun(r, w) {
		// A Job's template is immutable on a cluster: a file that changes
		// it asks for a new run, as delete-and-create would.
		m.log.Info("the Job's template changed; it runs again as a new Job", zap.String("workload", k))
		ok = false
	}
	if !ok {
		uid := w.Meta().UID
		if uid == "" {
			uid = uuid.NewUUID()
		}
		r = &Record{Object: w, UID: uid, Created: now.Truncate(time.Second), Generation: 1}
		m.records[k] = r
	}
	r.Object = w.DeepCopy()
	withRestart(r)
	if spec := specHash(r.Object); r.SpecHash != spec {
		if r.SpecHash != "" {
			r.Generation++
		}
		r.SpecHash = spec
	}
	if w.ReplicaSet != nil {
		// A ReplicaSet from a file is its own one ReplicaSetRecord; new
		// pods take its template as it is now.
		rs := w.ReplicaSet
		if len(r.ReplicaSets) == 0 {
			r.ReplicaSets = []ReplicaSetRecord{{Name: rs.Name, UID: r.UID, Created: r.Created, Revision: 1}}
		}
		r.ReplicaSets[0].Template = *rs.Spec.Template.DeepCopy()
		r.ReplicaSets[0].Replicas = *rs.Spec.Replicas
	}
	return r
}

// sameJobRun: the Job in the file is the one the record ran (same
// template, completions and mode).
func sameJobRun(r *Record, w manifest.Workload) bool {
	a, b := r.Object.Job.Spec, w.Job.Spec
	return equality.Semantic.DeepEqual(a.Template, b.Template) &&
		equality.Semantic.DeepEqual(a.Completions, b.Completions) &&
		equality.Semantic.DeepEqual(a.CompletionMode, b.CompletionMode)
}

// specHash hashes what a workload asks for, not its metadata.
func specHash(w manifest.Workload) string {
	var spec any
	switch {
	case w.Deployment != nil:
		spec = w.Deployment.Spec
	case w.ReplicaSet != nil:
		spec = w.ReplicaSet.Spec
	case w.StatefulSet != nil:
		spec = w.StatefulSet.Spec
	case w.DaemonSet != nil:
		spec = w.DaemonSet.Spec
	case w.CronJob != nil:
		spec = w.CronJob.Spec
	default:
		spec = w.Job.Spec
	}
	data, _ := json.Marshal(spec)
	return string(data)
}

// restartedAtAnnotation is what `kubectl rollout restart` puts on a pod
// template.
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// withRestart puts the record's restart time on the workload's template,
// as `kubectl rollout restart` would have written it into the object.
func withRestart(r *Record) {
	if r.RestartedAt == "" {
		return
	}
	var t *v1.PodTemplateSpec
	switch {
	case r.Object.Deployment != nil:
		t = &r.Object.Deployment.Spec.Template
	case r.Object.StatefulSet != nil:
		t = &r.Object.StatefulSet.Spec.Template
	case r.Object.DaemonSet != nil:
		t = &r.Object.DaemonSet.Spec.Template
	default:
		return
	}
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[restartedAtAnnotation] = r.RestartedAt
}

// Restart is `minilet rollout restart`: the workload kind
// (Deployment, StatefulSet, DaemonSet) namespace/name rolls its pods out
// again, as a changed template would. The request is recorded before it
// returns.
func (m *Manager) Restart(kind, namespace, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[kind+" "+namespace+"/"+name]
	if !ok || r.Deleted || (kind != manifest.KindDeployment && kind != manifest.KindStatefulSet && kind != manifest.KindDaemonSet) {
		return fmt.Errorf("%s %q not found", strings.ToLower(kind)+"s.apps", name)
	}
	old := r.RestartedAt
	r.RestartedAt = m.clock.Now().UTC().Format(time.RFC3339)
	if !m.save(r) {
		r.RestartedAt = old
		return fmt.Errorf("cannot record the restart")
	}
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return nil
}

// sync runs the record's controller.
func (m *Manager) sync(r *Record, obs Observed, e *env) result {
	switch {
	case r.Object.Deployment != nil:
		return syncDeployment(r.Object.Deployment, r, obs, e)
	case r.Object.ReplicaSet != nil:
		rs := &r.ReplicaSets[0]
		var res result
		syncReplicaSet(rs, r.Object.ReplicaSet.Namespace, obs, e, &res)
		return res
	case r.Object.StatefulSet != nil:
		return syncStatefulSet(r.Object.StatefulSet, r, obs, e)
	case r.Object.CronJob != nil:
		return syncCronJob(r.Object.CronJob, r, obs, e)
	case r.Object.DaemonSet != nil:
		var n *v1.Node
		if m.cfg.Node != nil {
			n = m.cfg.Node.AdmissionNode()
		}
		return syncDaemonSet(r.Object.DaemonSet, r, obs, n, m.cfg.Manifest.NodeName, e)
	default:
		return syncJob(r.Object.Job, r, obs, e)
	}
}

// save writes the record if it changed since it was last written. A
// record that cannot be written is logged and false returned: the pass's
// decisions are dropped (lastSaved), since a pod handed over but not
// recorded could run twice after a restart; the next pass tries again.
func (m *Manager) save(r *Record) bool {
	data, err := json.Marshal(r)
	if err != nil {
		m.log.Error("cannot encode a workload record", zap.String("workload", r.key()), zap.Error(err))
		return false
	}
	if bytes.Equal(data, m.saved[r.key()]) {
		return true
	}
	if err := m.store.save(r, data); err != nil {
		m.log.Error("cannot save a workload record", zap.String("workload", r.key()), zap.Error(err))
		return false
	}
	m.saved[r.key()] = data
	return true
}

// lastSaved puts back the record as last written (nil pods when it never
// was) in place of r, whose changes could not be written.
func (m *Manager) lastSaved(k string, r *Record) *Record {
	back := &Record{Object: r.Object, UID: r.UID, Created: r.Created, Generation: r.Generation, SpecHash: r.SpecHash}
	if data, ok := m.saved[k]; ok {
		if err := json.Unmarshal(data, back); err != nil {
			back = &Record{Object: r.Object, UID: r.UID}
		}
	}
	m.records[k] = back
	return back
}

// removeClaims removes the data of the claims a StatefulSet dropped
// (retention policy Delete), each once no pod mounts it.
func (m *Manager) removeClaims(r *Record) {
	if r.Set == nil || len(r.Set.ClaimsToDelete) == 0 || m.cfg.Claims == nil {
		return
	}
	ns := r.Object.Meta().Namespace
	var left []string
	for _, c := range r.Set.ClaimsToDelete {
		if err := m.cfg.Claims.RemoveClaim(ns, c); err != nil {
			m.log.Debug("claim data not removed yet", zap.String("claim", ns+"/"+c), zap.Error(err))
			left = append(left, c)
			continue
		}
		m.log.Info("removed the data of a StatefulSet's claim (persistentVolumeClaimRetentionPolicy Delete)", zap.String("claim", ns+"/"+c))
	}
	r.Set.ClaimsToDelete = left
}

// CreateJobFromCronJob asks for a Job of the CronJob namespace/cronJob now,
// named job ("": <cronjob>-manual-<5 chars>), as `kubectl create job
// --from=cronjob/NAME` does. The request is recorded before it returns.
func (m *Manager) CreateJobFromCronJob(namespace, cronJob, job string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[manifest.KindCronJob+" "+namespace+"/"+cronJob]
	if !ok || r.Deleted {
		return "", fmt.Errorf("cronjobs.batch %q not found", cronJob)
	}
	if job == "" {
		job = names.Generate(cronJob + "-manual-")
	}
	if msgs := validation.IsDNS1123Subdomain(job); len(msgs) > 0 {
		return "", fmt.Errorf("invalid Job name %q: %s", job, msgs[0])
	}
	var files []manifest.Workload
	if m.last != nil {
		files = m.last.Workloads
	}
	for _, w := range files {
		if w.Job != nil && w.Job.Namespace == namespace && w.Job.Name == job {
			return "", fmt.Errorf("jobs.batch %q already exists", job)
		}
	}
	if r.Cron == nil {
		r.Cron = &CronRecord{}
	}
	if r.Cron.hasJob(job) || containsString(r.Cron.Manual, job) {
		return "", fmt.Errorf("jobs.batch %q already exists", job)
	}
	r.Cron.Manual = append(r.Cron.Manual, job)
	if !m.save(r) {
		r.Cron.Manual = r.Cron.Manual[:len(r.Cron.Manual)-1]
		return "", fmt.Errorf("cannot record the request")
	}
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return job, nil
}
