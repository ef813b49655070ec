package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"go.uber.org/zap"
	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/apimachinery/lease"
	"k8s.io/utils/clock"

	"github.com/minilet/minilet/pkg/node"
)

// NodeSource builds the node as minilet sees it now (node.Reporter).
type NodeSource interface {
	Node(ctx context.Context) (v1.Node, error)
}

// NodeConfig tunes a NodeAgent; zero durations take the kubelet's
// defaults.
type NodeConfig struct {
	// Name is the node's name.
	Name string
	// FlagLabels are --node-labels: a label of the flag someone removed
	// in the API stays removed.
	FlagLabels map[string]string
	// LeaseDuration is the Lease's duration (the kubelet's
	// nodeLeaseDurationSeconds, 40s); it is renewed every quarter of it.
	LeaseDuration time.Duration
	// StatusUpdate is how often the status is computed and sent if it
	// changed (nodeStatusUpdateFrequency, 10s).
	StatusUpdate time.Duration
	// StatusReport is how often it is sent unchanged
	// (nodeStatusReportFrequency, 5m).
	StatusReport time.Duration
}

// Kubelet defaults.
const (
	DefaultLeaseDuration = 40 * time.Second
	DefaultStatusUpdate  = 10 * time.Second
	DefaultStatusReport  = 5 * time.Minute
	leaseNamespace       = "kube-node-lease"
)

// NodeAgent registers the node, keeps its status and Lease fresh, and is
// the node's spec (node.SpecSource, the pod manager's cordon) in cluster
// mode: the API server's Node is the truth for cordon, labels and taints,
// and local changes are written through to it.
type NodeAgent struct {
	cfg    NodeConfig
	client kubernetes.Interface
	log    *zap.Logger
	clock  clock.WithTicker

	factory informers.SharedInformerFactory
	lister  corelisters.NodeLister
	synced  cache.InformerSynced

	mu       sync.Mutex
	onChange func() // the node's spec changed
	reach    reachability
}

// NewNodeAgent returns an agent of the node cfg.Name.
func NewNodeAgent(cfg NodeConfig, client kubernetes.Interface, log *zap.Logger) *NodeAgent {
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.StatusUpdate <= 0 {
		cfg.StatusUpdate = DefaultStatusUpdate
	}
	if cfg.StatusReport <= 0 {
		cfg.StatusReport = DefaultStatusReport
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", cfg.Name).String()
	}))
	nodes := factory.Core().V1().Nodes()
	a := &NodeAgent{cfg: cfg, client: client, log: log, clock: clock.RealClock{},
		factory: factory, lister: nodes.Lister(), synced: nodes.Informer().HasSynced}
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { a.specChanged() },
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*v1.Node)
			c, ok2 := cur.(*v1.Node)
			if !ok1 || !ok2 || !maps.Equal(o.Labels, c.Labels) || o.Spec.Unschedulable != c.Spec.Unschedulable || !taintsEqual(o.Spec.Taints, c.Spec.Taints) {
				a.specChanged()
			}
		},
	})
	return a
}

// OnSpecChange makes f run when the node's cordon, labels or taints
// change in the API (the pod manager admits waiting pods again). Call
// before Run.
func (a *NodeAgent) OnSpecChange(f func()) {
	a.mu.Lock()
	a.onChange = f
	a.mu.Unlock()
}

func (a *NodeAgent) specChanged() {
	a.mu.Lock()
	f := a.onChange
	a.mu.Unlock()
	if f != nil {
		f()
	}
}

// Run registers the node as src builds it, then renews its Lease and
// reports its status until ctx ends. While the API server cannot be reached it logs that
// once and tries again with client-go's back-off; nothing local waits
// for it.
func (a *NodeAgent) Run(ctx context.Context, src NodeSource) {
	a.factory.Start(ctx.Done())
	defer a.factory.Shutdown()
	if !a.register(ctx, src) {
		return
	}
	renew := a.cfg.LeaseDuration / 4
	leases := lease.NewController(a.clock, a.client, a.cfg.Name, int32(a.cfg.LeaseDuration/time.Second),
		func() { a.reached(errLeaseNotRenewed) }, renew, a.cfg.Name, leaseNamespace, a.setLeaseOwner)
	go leases.Run(ctx)
	cache.WaitForCacheSync(ctx.Done(), a.synced)
	var lastReport time.Time
	t := a.clock.NewTicker(a.cfg.StatusUpdate)
	defer t.Stop()
	for {
		if ok := a.reportStatus(ctx, src, &lastReport); !ok && ctx.Err() == nil {
			a.register(ctx, src)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// register creates the Node, or finds it made by an earlier run, trying
// again with back-off until it can; false when ctx ended first.
func (a *NodeAgent) register(ctx context.Context, src NodeSource) bool {
	delay := 200 * time.Millisecond
	for {
		err := a.tryRegister(ctx, src)
		a.reached(err)
		if err == nil {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-a.clock.After(delay):
		}
		delay = min(2*delay, 7*time.Second)
	}
}

func (a *NodeAgent) tryRegister(ctx context.Context, src NodeSource) error {
	local, err := src.Node(ctx)
	if err != nil {
		return err
	}
	_, err = a.client.CoreV1().Nodes().Create(ctx, registrationNode(local), metav1.CreateOptions{})
	switch {
	case err == nil:
		a.log.Info("node registered", zap.String("node", a.cfg.Name))
		return nil
	case !apierrors.IsAlreadyExists(err):
		return fmt.Errorf("register node %s: %w", a.cfg.Name, err)
	}
	// Made by an earlier run: set the built-in labels again (the host's
	// os or arch cannot have changed, but its hostname label may be
	// missing), as the kubelet does; the rest is the API's.
	have, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read node %s: %w", a.cfg.Name, err)
	}
	if patch := builtinLabelPatch(have, node.BuiltinLabels(a.cfg.Name)); patch != nil {
		if _, err := a.client.CoreV1().Nodes().Patch(ctx, a.cfg.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("set node %s's labels: %w", a.cfg.Name, err)
		}
	}
	a.log.Info("node already registered", zap.String("node", a.cfg.Name))
	return nil
}

// reportStatus sends the node's status if it changed or a report is due;
// false when the Node is gone from the API (to be registered again).
func (a *NodeAgent) reportStatus(ctx context.Context, src NodeSource, lastReport *time.Time) bool {
	api, err := a.lister.Get(a.cfg.Name)
	if err != nil || a.failing() {
		// Not in the cache, or the API server did not answer lately (the
		// cache may be old): ask it.
		api, err = a.client.CoreV1().Nodes().Get(ctx, a.cfg.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			a.log.Warn("node is gone from the API server; registering it again", zap.String("node", a.cfg.Name))
			return false
		}
		a.reached(err)
		if err != nil {
			return true
		}
	}
	local, err := src.Node(ctx)
	if err != nil {
		a.log.Warn("cannot build the node's status", zap.Error(err))
		return true
	}
	now := a.clock.Now()
	patch, err := planStatusReport(api, local.Status, *lastReport, now, a.cfg.StatusReport)
	if err != nil || patch == nil {
		return true
	}
	a.log.Debug("sending the node's status", zap.ByteString("patch", patch))
	_, err = a.client.CoreV1().Nodes().Patch(ctx, a.cfg.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	a.reached(err)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err == nil {
		*lastReport = now
	}
	return true
}

// setLeaseOwner makes the Node the Lease's owner, so that deleting the
// Node deletes its Lease (the kubelet's setNodeOwnerFunc).
func (a *NodeAgent) setLeaseOwner(l *coordinationv1.Lease) error {
	if len(l.OwnerReferences) > 0 {
		return nil
	}
	n, err := a.lister.Get(a.cfg.Name)
	if err != nil {
		return nil // not known yet: next renewal
	}
	l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}}
	return nil
}

// reached logs when the API server stops answering and when it answers
// again, once each.
func (a *NodeAgent) reached(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reach.note(err, a.log)
}

// errLeaseNotRenewed is what the lease controller's repeated failures
// tell.
var errLeaseNotRenewed = errors.New("the node's Lease could not be renewed several times in a row")

// Unreachable reports whether the API server did not answer the node's
// last call (NodeIdentity).
func (a *NodeAgent) Unreachable() bool { return a.failing() }

// failing reports whether the API server did not answer the last call.
func (a *NodeAgent) failing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reach.failing
}

// reachability remembers whether the last call reached the API server,
// and whether it refused the node's credentials.
type reachability struct{ failing, refused bool }

// note logs a change: unreachable, refused credentials (once, as an
// error: it does not pass by itself), reachable or accepted again.
func (r *reachability) note(err error, log *zap.Logger) {
	down := err != nil && !isAnswer(err)
	refused := apierrors.IsUnauthorized(err)
	defer func() { r.failing, r.refused = down, refused }()
	switch {
	case refused && !r.refused:
		log.Error("the API server refuses this node's credentials (401 Unauthorized): pods keep running as they are, "+
			"but nothing is reported or learned until the credentials of --kubeconfig are renewed "+
			"(a token file it names is read again; an inline token or a certificate needs a restart of minilet)", zap.Error(err))
		return
	case refused:
		return
	case r.refused && err == nil:
		log.Info("the API server accepts this node's credentials again")
	}
	switch {
	case down && !r.failing:
		log.Warn("cannot reach the API server; pods keep running, and the node's status catches up once it answers", zap.Error(err))
	case !down && r.failing:
		log.Info("API server reachable again")
	case err != nil && isAnswer(err):
		log.Warn("API server refused a request", zap.Error(err))
	}
}

// isAnswer reports whether err is the API server's answer (a status), not
// a failure to reach it.
func isAnswer(err error) bool {
	var s apierrors.APIStatus
	return errors.As(err, &s) && s.Status().Code != 0 && s.Status().Code < 500
}

func taintsEqual(a, b []v1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].MatchTaint(&b[i]) || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// builtinLabelPatch is a patch setting want's labels on n where they
// differ; nil when none do.
func builtinLabelPatch(n *v1.Node, want map[string]string) []byte {
	diff := map[string]string{}
	for k, v := range want {
		if n.Labels[k] != v {
			diff[k] = v
		}
	}
	if len(diff) == 0 {
		return nil
	}
	return mustJSON(map[string]any{"metadata": map[string]any{"labels": diff}})
}

// NodeUID is the Node's UID, once the API server has it (NodeIdentity).
func (a *NodeAgent) NodeUID() (types.UID, bool) {
	n, err := a.lister.Get(a.cfg.Name)
	if err != nil {
		return "", false
	}
	return n.UID, true
}
