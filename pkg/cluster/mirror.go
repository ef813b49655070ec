package cluster

import (
	"context"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/minilet/minilet/pkg/manifest"
)

// LocalPods is what the pod syncer reads of the pod manager.
type LocalPods interface {
	// Pods are the local pods with their status.
	Pods() []v1.Pod
	// SyncedPods are those whose status is known (not a guess made
	// before their worker looked at the runtime, after a restart).
	SyncedPods() []v1.Pod
	// Subscribe returns a channel signalled when a pod's status changes.
	Subscribe() <-chan struct{}
}

// NodeIdentity tells the Node's UID once the API server has it (the
// owner of mirror pods).
type NodeIdentity interface {
	NodeUID() (types.UID, bool)
	// Unreachable reports whether the API server did not answer the
	// node's last call (NodeAgent).
	Unreachable() bool
}

// mirrorResync is how often the mirrors are compared with the local pods
// without a change to wake for.
const mirrorResync = 10 * time.Second

// Refusals tells why an API pod cannot run here (APIPods).
type Refusals interface {
	Refused(uid types.UID) string
}

// PodSyncer writes the local pods to the API server, as the kubelet's
// mirror client and status manager do. For every local pod from the
// manifest directory it keeps a mirror pod: made when missing (also when
// someone deletes it), deleted when the local pod goes, made again when
// the local pod changes, its status patched as the local status changes.
// For every pod the API server bound here it patches the status, and
// deletes it for good once it was deleted and its containers are gone.
type PodSyncer struct {
	node    string
	client  kubernetes.Interface
	pods    LocalPods
	ident   NodeIdentity
	refused Refusals
	log     *zap.Logger

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	synced  cache.InformerSynced
	trigger chan struct{}

	sent map[types.UID]sentStatus // status last sent, per pod
	// stale: the API server was away; the informer's pods may be old
	// (client-go's reflector relists with a back-off of up to a minute),
	// so the next plan reads the pods from the API server itself.
	stale  bool
	failed map[string]string // mirror → the last error logged
}

// NewPodInformers returns an informer factory of the pods bound to node
// (the only pods the Node authorizer lets a node list).
func NewPodInformers(client kubernetes.Interface, node string) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "spec.nodeName=" + node
	}))
}

// NewPodSyncer returns a syncer of node's pods; factory is
// NewPodInformers's.
func NewPodSyncer(node string, client kubernetes.Interface, factory informers.SharedInformerFactory, pods LocalPods, ident NodeIdentity, refused Refusals, log *zap.Logger) *PodSyncer {
	inf := factory.Core().V1().Pods()
	s := &PodSyncer{node: node, client: client, pods: pods, ident: ident, refused: refused, log: log,
		factory: factory, lister: inf.Lister(), synced: inf.Informer().HasSynced,
		trigger: make(chan struct{}, 1), sent: map[types.UID]sentStatus{}, failed: map[string]string{}}
	wake := func(any) { s.wake() }
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    wake,
		UpdateFunc: func(_, cur any) { wake(cur) },
		DeleteFunc: wake,
	})
	return s
}

func (s *PodSyncer) wake() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run keeps the API server's pods in line until ctx ends. Start it once
// the pod manager has adopted the pods a previous run left: before, it
// would see none and delete their mirrors.
func (s *PodSyncer) Run(ctx context.Context) {
	changed := s.pods.Subscribe()
	s.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.synced) {
		return
	}
	t := time.NewTicker(mirrorResync)
	defer t.Stop()
	for {
		retry := s.sync(ctx)
		var soon <-chan time.Time
		if retry {
			soon = time.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.trigger:
		case <-changed:
		case <-t.C:
		case <-soon:
		}
	}
}

// sync plans and applies once; true when it should run again soon (the
// Node is not known yet).
func (s *PodSyncer) sync(ctx context.Context) bool {
	uid, ok := s.ident.NodeUID()
	if !ok {
		return true
	}
	if s.ident.Unreachable() {
		s.stale = true
		return false
	}
	var apiPods []*v1.Pod
	var err error
	if s.stale {
		apiPods, err = s.listFromAPI(ctx)
		if err != nil {
			return true
		}
		s.stale = false
		s.log.Info("API server answers again: the pods' statuses are compared with its own, not the cache's")
	} else if apiPods, err = s.lister.List(labels.Everything()); err != nil {
		return true
	}
	var static, fromAPI []v1.Pod
	for _, p := range s.pods.Pods() {
		if manifest.IsAPIPod(&p) {
			fromAPI = append(fromAPI, p)
		} else {
			static = append(static, p)
		}
	}
	var synced []v1.Pod
	for _, p := range s.pods.SyncedPods() {
		if manifest.IsAPIPod(&p) {
			synced = append(synced, p)
		}
	}
	now := time.Now()
	plan, err := planMirrors(s.node, uid, static, apiPods, s.sent, now)
	if err != nil {
		s.log.Warn("cannot plan the mirror pods", zap.Error(err))
		return false
	}
	s.apply(ctx, plan)
	aplan, err := planAPIPods(s.node, fromAPI, synced, apiPods, s.sent, s.refused.Refused, metav1.NewTime(now))
	if err != nil {
		s.log.Warn("cannot plan the pods' statuses", zap.Error(err))
		return false
	}
	s.applyAPI(ctx, aplan)
	s.forgetSent(apiPods)
	return false
}

// listFromAPI lists the pods bound to this node from the API server.
func (s *PodSyncer) listFromAPI(ctx context.Context) ([]*v1.Pod, error) {
	l, err := s.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + s.node})
	if err != nil {
		return nil, err
	}
	out := make([]*v1.Pod, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out, nil
}

func (s *PodSyncer) applyAPI(ctx context.Context, plan apiPlan) {
	pods := s.client.CoreV1().Pods
	for _, u := range plan.Statuses {
		p := u.Mirror
		if _, err := pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, u.Patch, metav1.PatchOptions{}, "status"); err != nil {
			s.noteFailure(p, "update the status of", err)
			continue
		}
		s.sent[p.UID] = sentStatus{Status: u.Status, At: time.Now()}
	}
	for _, p := range plan.Deletes {
		grace := int64(0)
		err := pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: &metav1.Preconditions{UID: &p.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			s.noteFailure(p, "delete", err)
			continue
		}
		s.log.Info("pod deleted from the API server: its containers are gone", zap.String("namespace", p.Namespace), zap.String("pod", p.Name))
	}
}

func (s *PodSyncer) apply(ctx context.Context, plan mirrorPlan) {
	pods := s.client.CoreV1().Pods
	for _, m := range plan.Deletes {
		grace := int64(0)
		err := pods(m.Namespace).Delete(ctx, m.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: &metav1.Preconditions{UID: &m.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			s.noteFailure(m, "delete", err)
			continue
		}
		s.log.Info("mirror pod deleted", zap.String("namespace", m.Namespace), zap.String("pod", m.Name))
		delete(s.sent, m.UID)
	}
	for _, m := range plan.Creates {
		_, err := pods(m.Namespace).Create(ctx, m, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			s.noteFailure(m, "create", err)
			continue
		}
		if err == nil {
			s.log.Info("mirror pod created", zap.String("namespace", m.Namespace), zap.String("pod", m.Name))
			delete(s.failed, m.Namespace+"/"+m.Name)
		}
	}
	for _, u := range plan.Statuses {
		m := u.Mirror
		_, err := pods(m.Namespace).Patch(ctx, m.Name, types.StrategicMergePatchType, u.Patch, metav1.PatchOptions{}, "status")
		if err != nil {
			s.noteFailure(m, "update the status of", err)
			continue
		}
		s.sent[m.UID] = sentStatus{Status: u.Status, At: time.Now()}
	}
}

// noteFailure logs a failed call on a mirror pod once per distinct error,
// so that a mirror the API server refuses (a namespace that does not
// exist, a pod NodeRestriction forbids) does not flood the log.
func (s *PodSyncer) noteFailure(m *v1.Pod, what string, err error) {
	key := m.Namespace + "/" + m.Name
	if s.failed[key] == what+err.Error() {
		return
	}
	s.failed[key] = what + err.Error()
	s.log.Warn("cannot "+what+" pod in the API server; the local pod runs regardless", zap.String("namespace", m.Namespace), zap.String("pod", m.Name), zap.Error(err))
}

// forgetSent drops what was sent to mirrors that are gone.
func (s *PodSyncer) forgetSent(mirrors []*v1.Pod) {
	live := make(map[types.UID]bool, len(mirrors))
	for _, m := range mirrors {
		live[m.UID] = true
	}
	for uid := range s.sent {
		if !live[uid] {
			delete(s.sent, uid)
		}
	}
}
