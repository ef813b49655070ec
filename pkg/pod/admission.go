package pod

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/devices"
	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/node"
)

// NodeView is this node as admission and the API see it (node.Reporter).
type NodeView interface {
	Node(ctx context.Context) (v1.Node, error)
	AdmissionNode() *v1.Node
	// Allocatable is the node's allocatable resources, measured.
	Allocatable() v1.ResourceList
	// Patch changes the node's labels, taints and cordon as a patch of
	// the node asks.
	Patch(ctx context.Context, patch []byte) error
}

// PressureView says whether a pod may start under the node's pressure
// conditions (the eviction manager): a non-empty message refuses it, as
// the kubelet's eviction admission handler (Failed, Evicted).
type PressureView interface {
	AdmitMessage(pod *v1.Pod, static bool) string
	// NodeChanged: the node's labels or taints changed (a NoExecute
	// taint evicts running pods).
	NodeChanged()
}

// SetPressure makes admission refuse pods under node pressure as p says.
// Call before Run.
func (m *Manager) SetPressure(p PressureView) { m.pressure = p }

// CordonState is the node's persistent cordon flag (node.SpecStore).
type CordonState interface {
	Cordoned() bool
	Set(cordoned bool) error
}

// block is why a pod's worker does not start it: the kubelet refuses it
// (SysctlForbidden, AppArmor, OutOf<resource>..., for good: Failed), or it
// does not fit the node as the scheduler sees it (cordon, taints, node
// labels: Unschedulable, Pending until the node changes).
type block struct {
	phase   v1.PodPhase
	reason  string
	message string
}

// admit decides whether a new pod (of worker w) may start on this node,
// and gives it its extended resources. Call with m.mu held.
func (m *Manager) admit(w *worker) *block {
	pod := w.record().Pod
	if m.sysctls != nil {
		if ok, reason, msg := m.sysctls.Admit(pod); !ok {
			return &block{phase: v1.PodFailed, reason: reason, message: msg}
		}
	}
	if ok, reason, msg := m.hostSec.AdmitSecurity(pod); !ok {
		return &block{phase: v1.PodFailed, reason: reason, message: msg}
	}
	if msg := m.hostSec.SELinuxIgnored(pod); msg != "" {
		w.events.record(v1.EventTypeWarning, "SELinuxIgnored", msg, "")
	}
	if b := m.claimConflict(pod); b != nil {
		return b
	}
	if m.node != nil {
		if manifest.IsAPIPod(pod) {
			// The scheduler placed it: the kubelet's admission.
			if ok, reason, msg := node.KubeletAdmit(pod, m.node.AdmissionNode(), m.node.Allocatable(), m.admittedOthers(w)); !ok {
				return &block{phase: v1.PodFailed, reason: reason, message: msg}
			}
		} else if ok, reason, msg := node.Schedulable(pod, m.node.AdmissionNode()); !ok {
			return &block{phase: v1.PodPending, reason: reason, message: msg}
		}
	}
	if m.pressure != nil {
		if msg := m.pressure.AdmitMessage(pod, isStatic(pod)); msg != "" {
			return &block{phase: v1.PodFailed, reason: ReasonEvicted, message: msg}
		}
	}
	// Last: a pod that passed every other rule gets its devices.
	return m.allocate(pod, w)
}

// admittedOthers are the pods, but w's, that were admitted and have not
// ended: what holds the node's resources. Call with m.mu held.
func (m *Manager) admittedOthers(w *worker) []*v1.Pod {
	var out []*v1.Pod
	for _, o := range m.allLocked() {
		if o == w || o.terminal() || o.blockedBy() != nil {
			continue
		}
		out = append(out, o.record().Pod)
	}
	return out
}

// ErrReadWriteOncePod is the scheduler's reason for a pod that wants a
// ReadWriteOncePod claim another pod uses.
const ErrReadWriteOncePod = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"

// claimConflict blocks a pod that mounts a ReadWriteOncePod claim another
// started pod (running or stopping) mounts, as the scheduler keeps it
// Pending; it starts once that pod is gone. Call with m.mu held.
func (m *Manager) claimConflict(pod *v1.Pod) *block {
	objs := m.d.objectSet()
	for _, v := range pod.Spec.Volumes {
		c := v.PersistentVolumeClaim
		if c == nil {
			continue
		}
		claim, ok := objs.Claim(pod.Namespace, c.ClaimName)
		if !ok || !slices.Contains(claim.Spec.AccessModes, v1.ReadWriteOncePod) {
			continue
		}
		for _, w := range m.allLocked() {
			other := w.record().Pod
			if other.UID == pod.UID || other.Namespace != pod.Namespace || w.blockedBy() != nil {
				continue
			}
			if usesClaim(other, c.ClaimName) {
				return &block{phase: v1.PodPending, reason: "Unschedulable",
					message: fmt.Sprintf("%s (claim %s is used by pod %s)", ErrReadWriteOncePod, c.ClaimName, other.Name)}
			}
		}
	}
	return nil
}

// usesClaim reports whether pod mounts the claim name (of its namespace).
func usesClaim(pod *v1.Pod, name string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == name {
			return true
		}
	}
	return false
}

// allocate gives w's pod the extended resources it asks for, from what the
// other pods do not hold; a pod that asks for more than is free is
// refused as the kubelet refuses it (Failed, OutOf<resource>). A pod that
// holds its devices already (adopted, or admitted again) keeps them. Call
// with m.mu held.
func (m *Manager) allocate(pod *v1.Pod, w *worker) *block {
	if w.devices() != nil {
		return nil
	}
	var held []devices.Assignment
	for _, o := range m.allLocked() {
		if o == w || o.terminal() {
			continue // a pod that has Succeeded or Failed holds nothing, as on the kubelet
		}
		if a := o.devices(); a != nil {
			held = append(held, *a)
		}
	}
	pool := devices.Pool{}
	if m.devices != nil {
		pool = m.devices.Pool()
	}
	a, err := devices.Allocate(pool, held, pod)
	var r devices.Refusal
	if errors.As(err, &r) {
		return &block{phase: v1.PodFailed, reason: r.Reason(), message: r.Error()}
	}
	if err != nil {
		return &block{phase: v1.PodFailed, reason: "UnexpectedAdmissionError", message: err.Error()}
	}
	if len(a.Held) > 0 {
		w.setDevices(&a)
	}
	return nil
}

func (m *Manager) cordoned() bool { return m.cordon != nil && m.cordon.Cordoned() }

// blockedStatus is the status of a pod that is not started.
func (w *worker) blockedStatus(b *block) v1.PodStatus {
	now := metav1.NewTime(w.d.now())
	st := v1.PodStatus{Phase: b.phase, HostIP: w.d.cfg.HostIP, QOSClass: qosClass(w.record().Pod)}
	if b.phase == v1.PodFailed {
		st.Reason, st.Message = b.reason, b.message
		return st
	}
	st.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse,
		Reason: b.reason, Message: b.message, LastTransitionTime: now}}
	return st
}

// setBlock blocks or (nil) unblocks the worker; a worker being unblocked
// is woken to start its pod.
func (w *worker) setBlock(b *block) {
	w.mu.Lock()
	was := w.blocked
	w.blocked = b
	w.mu.Unlock()
	if b != nil && (was == nil || *was != *b) {
		typ := v1.EventTypeWarning
		reason := b.reason
		msg := b.message
		switch {
		case b.phase == v1.PodFailed:
			// Refused by the kubelet's admission: the event has its
			// reason (SysctlForbidden, AppArmor, ...).
		default:
			reason = "FailedScheduling"
		}
		w.events.record(typ, reason, msg, "")
		w.log.Warn("pod not started", zap.String("reason", b.reason), zap.String("message", b.message))
	}
	w.wake()
}

func (w *worker) blockedBy() *block {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.blocked
}

// Node returns this node as a v1.Node (server.NodeController).
func (m *Manager) Node(ctx context.Context) (v1.Node, error) {
	if m.node == nil {
		return v1.Node{}, errors.New("this daemon has no node view")
	}
	return m.node.Node(ctx)
}

// SetCordoned cordons or uncordons the node. While cordoned, new or changed
// manifests are not started; running pods stay. Uncordoning starts what
// waited, drained pods included.
func (m *Manager) SetCordoned(ctx context.Context, cordoned bool) error {
	if m.cordon == nil {
		return errors.New("this daemon cannot cordon")
	}
	if err := m.cordon.Set(cordoned); err != nil {
		return fmt.Errorf("save the cordon state: %w", err)
	}
	m.log().Info("node cordon changed", zap.Bool("cordoned", cordoned))
	m.requestResync()
	return nil
}

// PatchNode changes the node's labels, taints or cordon as kubectl label,
// taint and cordon patch a node, and admits again the pods waiting for the
// node to fit them (a nodeSelector on a label just set, a taint gone).
func (m *Manager) PatchNode(ctx context.Context, patch []byte) (v1.Node, error) {
	if m.node == nil {
		return v1.Node{}, errors.New("this daemon has no node view")
	}
	if err := m.node.Patch(ctx, patch); err != nil {
		return v1.Node{}, err
	}
	m.log().Info("node labels, taints or cordon changed")
	m.NodeSpecChanged()
	return m.node.Node(ctx)
}

// NodeSpecChanged admits again the pods waiting for the node to fit them,
// and lets the eviction manager look at NoExecute taints: the node's
// labels, taints or cordon changed elsewhere (the API server, in cluster
// mode).
func (m *Manager) NodeSpecChanged() {
	m.requestResync()
	if m.pressure != nil {
		m.pressure.NodeChanged()
	}
}

// Drain cordons the node and stops every pod gracefully (gracePeriod, when
// set, replaces each pod's terminationGracePeriodSeconds). It returns when
// they are all gone. Uncordon brings them back.
func (m *Manager) Drain(ctx context.Context, gracePeriod *int64) error {
	if err := m.SetCordoned(ctx, true); err != nil {
		return err
	}
	req := &drainRequest{grace: gracePeriod}
	m.mu.Lock()
	m.draining = req
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.draining == req {
			m.draining = nil
		}
		m.mu.Unlock()
		m.requestResync()
	}()
	m.requestResync()
	m.log().Info("draining the node")
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		m.mu.Lock()
		done := req.applied && len(m.terminating) == 0
		m.mu.Unlock()
		if done {
			m.log().Info("node drained")
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (m *Manager) log() *zap.Logger { return m.d.log }

// requestResync makes the manager loop reconcile again soon.
func (m *Manager) requestResync() {
	select {
	case m.resync <- struct{}{}:
	default:
	}
}
