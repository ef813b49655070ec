package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/node"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// In-place resize of a pod from the API server (pods/resize), as the
// kubelet does it: the manager admits the pod's new cpu and memory
// (resizeFits: Infeasible, Deferred, or allocated); the worker takes the
// allocation into the pod's record; the plan updates the cgroup of each
// running container whose resources differ (or restarts it, when its
// resizePolicy asks for that); the status shows each running container's
// resources and the PodResizePending and PodResizeInProgress conditions.

// labelResources keeps the cpu and memory requests and limits a
// container's cgroup was last given (JSON): the kubelet's actuated
// resources, which survive a restart of the daemon with the container.
const labelResources = "minilet.io/resources"

// ReasonResizeRestart is why a container whose resizePolicy says
// RestartContainer is killed and started again (the restart metric's
// reason).
const ReasonResizeRestart = "ResizeRestart"

// resizable is the part of r a resize changes: cpu and memory requests
// and limits.
func resizable(r v1.ResourceRequirements) v1.ResourceRequirements {
	return mergeResizable(v1.ResourceRequirements{}, r)
}

func encodeResources(r v1.ResourceRequirements) string {
	b, err := json.Marshal(resizable(r))
	if err != nil {
		return ""
	}
	return string(b)
}

// actuated is the cpu and memory a container's cgroup was given (its
// label); false when it has no label (made by an older minilet).
func actuated(c *runtime.Container) (v1.ResourceRequirements, bool) {
	s, ok := c.Labels[labelResources]
	if !ok {
		return v1.ResourceRequirements{}, false
	}
	var r v1.ResourceRequirements
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return v1.ResourceRequirements{}, false
	}
	return r, true
}

// sameResizable reports whether a and b ask for the same cpu and memory.
func sameResizable(a, b v1.ResourceRequirements) bool {
	return apiequality.Semantic.DeepEqual(resizable(a), resizable(b))
}

// resizeOf says what the running container cur of spec needs to have
// spec's cpu and memory: nothing, an update of its cgroup, or a restart
// (the resizePolicy of a resource that changed is RestartContainer). A
// container without the label started after the pod's last in-place
// change has them; one that started before gets an update (idempotent),
// never a restart.
func (in planInput) resizeOf(spec *v1.Container, cur *runtime.Container) (update, restart bool) {
	return resizeOf(spec, cur, in.specChangedAt)
}

func resizeOf(spec *v1.Container, cur *runtime.Container, specChangedAt time.Time) (update, restart bool) {
	have, known := actuated(cur)
	if !known {
		if specChangedAt.IsZero() || !cur.StartedAt.Before(specChangedAt) {
			return false, false
		}
		return true, false
	}
	if sameResizable(have, spec.Resources) {
		return false, false
	}
	for _, n := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
		if quantityDiffers(have.Requests, spec.Resources.Requests, n) || quantityDiffers(have.Limits, spec.Resources.Limits, n) {
			for _, p := range spec.ResizePolicy {
				if p.ResourceName == n && p.RestartPolicy == v1.RestartContainer {
					return false, true
				}
			}
		}
	}
	return true, false
}

func quantityDiffers(a, b v1.ResourceList, n v1.ResourceName) bool {
	qa, oka := a[n]
	qb, okb := b[n]
	return oka != okb || qa.Cmp(qb) != 0
}

// planResize is the resize of a running container, if it needs one: an
// update of its cgroup, or a kill in the background so that it starts
// again with the new resources. A failed update waits for its retry.
func planResize(in planInput, p *podPlan, spec *v1.Container, cur *runtime.Container) (action, bool) {
	update, restart := in.resizeOf(spec, cur)
	switch {
	case restart && in.killing[cur.ID] == "":
		return killToRestart(in, cur, spec.Name, ReasonResizeRestart), true
	case update:
		if f, ok := in.resizeFailures[cur.ID]; ok && in.now.Before(f.due) {
			p.waitFor(f.due.Sub(in.now))
			return action{}, false
		}
		return action{kind: actResize, id: cur.ID, name: spec.Name}, true
	}
	return action{}, false
}

// resizeFailure is a cgroup update of a running container that failed
// (a memory limit below what it uses): the PodResizeInProgress condition's
// Error, retried after its delay.
type resizeFailure struct {
	message string
	due     time.Time
}

// resizePending is why the manager has not allocated a pod's new cpu and
// memory: the PodResizePending condition (reason Deferred or Infeasible).
type resizePending struct {
	reason, message string
}

// resizeFits decides whether pod, with the resources it asks for now,
// fits the node as the kubelet's allocation manager decides a resize:
// more than the node's allocatable is Infeasible, more than the other
// admitted pods leave is Deferred (retried as pods end).
func resizeFits(pod *v1.Pod, n *v1.Node, allocatable v1.ResourceList, others []*v1.Pod) *resizePending {
	if msg := node.ResizeCapacityMessage(pod, allocatable); msg != "" {
		return &resizePending{reason: v1.PodReasonInfeasible, message: msg}
	}
	if n == nil {
		return nil
	}
	if ok, _, msg := node.KubeletAdmit(pod, n, allocatable, others); !ok {
		return &resizePending{reason: v1.PodReasonDeferred, message: msg}
	}
	return nil
}

// withResourcesOf is pod with the cpu and memory of desired's containers
// (same names: a resize changes nothing else).
func withResourcesOf(pod, desired *v1.Pod) *v1.Pod {
	out := pod.DeepCopy()
	eachNamesake(out, desired, func(c, src *v1.Container) {
		c.Resources = mergeResizable(c.Resources, src.Resources)
	})
	return out
}

// mergeResizable is r with want's cpu and memory (other resources kept).
func mergeResizable(r, want v1.ResourceRequirements) v1.ResourceRequirements {
	out := *r.DeepCopy()
	for _, n := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
		delete(out.Requests, n)
		delete(out.Limits, n)
		if q, ok := want.Requests[n]; ok {
			if out.Requests == nil {
				out.Requests = v1.ResourceList{}
			}
			out.Requests[n] = q
		}
		if q, ok := want.Limits[n]; ok {
			if out.Limits == nil {
				out.Limits = v1.ResourceList{}
			}
			out.Limits[n] = q
		}
	}
	return out
}

// sameResourcesAs reports whether pod's containers ask for the cpu and
// memory desired's ask for.
func sameResourcesAs(pod, desired *v1.Pod) bool {
	return apiequality.Semantic.DeepEqual(withResourcesOf(pod, desired).Spec, pod.Spec)
}

// resize decides on the resize of w's pod to desired's resources, as the
// kubelet's allocation manager: allocated (the worker takes them), or
// pending with the reason. Call with m.mu held.
func (m *Manager) resize(w *worker, desired *v1.Pod) {
	if w.terminal() || w.isTerminating() {
		return
	}
	cur := w.record().Pod
	if sameResourcesAs(cur, desired) {
		w.setResizePending(nil)
		return
	}
	want := withResourcesOf(cur, desired)
	var n *v1.Node
	var allocatable v1.ResourceList
	if m.node != nil {
		n, allocatable = m.node.AdmissionNode(), m.node.Allocatable()
	}
	if p := resizeFits(want, n, allocatable, m.admittedOthers(w)); p != nil {
		w.setResizePending(p)
		return
	}
	w.setResizePending(nil)
	w.setAllocation(want)
}

// setResizePending sets (nil: clears) why the pod's resize waits; the
// next sync shows it.
func (w *worker) setResizePending(p *resizePending) {
	w.mu.Lock()
	old := w.pendingResize
	w.pendingResize = p
	w.mu.Unlock()
	if (old == nil) != (p == nil) || (old != nil && *old != *p) {
		if p != nil {
			w.log.Info("resize of the pod waits", zap.String("reason", p.reason), zap.String("message", p.message))
		}
		w.wake()
	}
}

// resizeWaits reports whether a resize of the pod is pending.
func (w *worker) resizeWaits() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pendingResize != nil
}

// setAllocation asks the loop to take pod's cpu and memory as the pod's
// (applyAllocation).
func (w *worker) setAllocation(pod *v1.Pod) {
	w.mu.Lock()
	w.pendingAlloc = pod
	w.mu.Unlock()
	w.wake()
}

// applyAllocation carries out setAllocation: the record takes the new
// resources (saved before anything is resized, so a daemon killed then
// goes on with them), and the plan resizes the containers.
func (w *worker) applyAllocation() {
	w.mu.Lock()
	want := w.pendingAlloc
	w.pendingAlloc = nil
	rec := w.rec
	w.mu.Unlock()
	if want == nil || sameResourcesAs(rec.Pod, want) {
		return
	}
	at := w.d.now()
	rec.Pod = withResourcesOf(rec.Pod, want)
	rec.SpecChangedAt = &at
	if err := saveRecord(w.paths, rec); err != nil {
		w.log.Warn("cannot save the pod's new resources; will retry", zap.Error(err))
		return // the manager allocates again at its next reconcile
	}
	w.mu.Lock()
	w.rec.Pod, w.rec.SpecChangedAt = rec.Pod, rec.SpecChangedAt
	w.resizing = true
	w.mu.Unlock()
	w.log.Info("resize allocated; resizing the running containers")
}

// resizeCompletedMessage is the kubelet's ResizeCompleted event message:
// the containers' allocated resources.
func resizeCompletedMessage(pod *v1.Pod) string {
	type alloc struct {
		Name      string                  `json:"name"`
		Resources v1.ResourceRequirements `json:"resources,omitempty"`
	}
	var summary struct {
		InitContainers []alloc `json:"initContainers,omitempty"`
		Containers     []alloc `json:"containers,omitempty"`
	}
	for _, c := range pod.Spec.InitContainers {
		summary.InitContainers = append(summary.InitContainers, alloc{c.Name, c.Resources})
	}
	for _, c := range pod.Spec.Containers {
		summary.Containers = append(summary.Containers, alloc{c.Name, c.Resources})
	}
	b, err := json.Marshal(summary)
	if err != nil {
		return "Pod resize completed"
	}
	return fmt.Sprintf("Pod resize completed: %s", b)
}

// resizeRetryDelay is how long a failed cgroup update waits to be tried
// again.
const resizeRetryDelay = 10 * time.Second

// applyResize gives a running container the cgroup settings of its
// allocated cpu and memory, then labels it with them. A failure (the
// kernel refuses a memory limit below what the container uses) is kept
// for the PodResizeInProgress condition and tried again later.
func (w *worker) applyResize(ctx context.Context, pod *v1.Pod, a action) {
	c := containerSpecByName(pod, a.name)
	if c == nil {
		return
	}
	err := w.d.rt.UpdateResources(ctx, a.id, podsandbox.Resources(c), map[string]string{labelResources: encodeResources(c.Resources)})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.resizeFailures[a.id] = resizeFailure{message: fmt.Sprintf("container %s: %v", a.name, err), due: w.d.now().Add(resizeRetryDelay)}
		w.log.Warn("cannot resize the container; will retry", zap.String("container", a.name), zap.Error(err), zap.Duration("retryIn", resizeRetryDelay))
		return
	}
	delete(w.resizeFailures, a.id)
	w.log.Info("resized container", zap.String("container", a.name), zap.String("resources", encodeResources(c.Resources)))
}

// statusResources is a container's resources as the kubelet shows them in
// its status: the allocated ones, with the cpu and memory its cgroup has
// while it runs.
func statusResources(spec *v1.Container, cur *runtime.Container) *v1.ResourceRequirements {
	r := spec.Resources.DeepCopy()
	if cur == nil || cur.State != runtime.StateRunning {
		return r
	}
	if have, ok := actuated(cur); ok {
		merged := mergeResizable(*r, have)
		return &merged
	}
	return r
}

// resizeConditions are the pod's PodResizePending and PodResizeInProgress
// conditions, as the kubelet sets them: pending while the manager has not
// allocated what the pod asks for; in progress while a running app or
// sidecar container's cgroup differs from its allocated cpu and memory
// (reason Error, with the message, after a failed update).
func (w *worker) resizeConditions(rec podRecord, pc observed, old []v1.PodCondition, now time.Time) []v1.PodCondition {
	w.mu.Lock()
	pending := w.pendingResize
	failures := maps.Clone(w.resizeFailures)
	w.mu.Unlock()
	var out []v1.PodCondition
	keep := func(c v1.PodCondition) v1.PodCondition {
		c.Status, c.LastTransitionTime = v1.ConditionTrue, metav1.NewTime(now)
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status && o.Reason == c.Reason {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	if pending != nil {
		out = append(out, keep(v1.PodCondition{Type: v1.PodResizePending, Reason: pending.reason, Message: pending.message}))
	}
	inProgress := false
	var errs []string
	for _, c := range resizableContainers(rec.Pod) {
		cur := current(pc, c.Name)
		if cur == nil || cur.State != runtime.StateRunning {
			continue
		}
		if update, restart := resizeOf(c, cur, rec.specChangedAt()); update || restart {
			inProgress = true
			if f, ok := failures[cur.ID]; ok {
				errs = append(errs, f.message)
			}
		}
	}
	if inProgress {
		c := v1.PodCondition{Type: v1.PodResizeInProgress}
		if len(errs) > 0 {
			c.Reason, c.Message = "Error", strings.Join(errs, "; ")
		}
		out = append(out, keep(c))
	}
	return out
}

// resizableContainers are the containers a resize changes in place: the
// apps and the sidecars.
func resizableContainers(pod *v1.Pod) []*v1.Container {
	var out []*v1.Container
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			out = append(out, &pod.Spec.InitContainers[i])
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// noteResizeDone records the ResizeCompleted event once a resize this
// worker allocated is carried out (st has no resize condition).
func (w *worker) noteResizeDone(pod *v1.Pod, st v1.PodStatus) {
	for _, c := range st.Conditions {
		if c.Type == v1.PodResizeInProgress || c.Type == v1.PodResizePending {
			return
		}
	}
	w.mu.Lock()
	was := w.resizing
	w.resizing = false
	w.mu.Unlock()
	if was {
		w.events.record(v1.EventTypeNormal, "ResizeCompleted", resizeCompletedMessage(pod), "")
		w.log.Info("resize completed")
	}
}
