package pod

import (
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
)

// buildStatus derives the pod's status from what the runtime holds and
// what the worker remembers (back-off gates, start failures).
func (w *worker) buildStatus(rec podRecord, pc observed, sandboxErr error) v1.PodStatus {
	pod := rec.Pod
	now := w.d.now()
	w.mu.Lock()
	old := w.status
	w.mu.Unlock()

	st := v1.PodStatus{Phase: v1.PodPending, HostIP: w.d.cfg.HostIP, QOSClass: qosClass(pod)}
	if w.d.cfg.HostIP != "" {
		st.HostIPs = []v1.HostIP{{IP: w.d.cfg.HostIP}}
	}
	if pc.sandbox != nil && pc.sandbox.State == runtime.StateRunning {
		for i, ip := range rec.PodIPs {
			if i == 0 {
				st.PodIP = ip
			}
			st.PodIPs = append(st.PodIPs, v1.PodIP{IP: ip})
		}
	}
	start := metav1.NewTime(w.firstSeen)
	if old.StartTime != nil {
		start = *old.StartTime
	}
	st.StartTime = &start

	initDone := true
	initFailed := false
	var incomplete, unready []string // the kubelet's condition messages name them
	sidecarsReady := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := w.containerStatus(rec, c, pc, now, len(pod.Spec.InitContainers) > 0)
		done := cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		if done && !isSidecar(c) {
			// The kubelet shows an init container that completed as
			// ready.
			cs.Ready = true
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if done {
			continue
		}
		if !(isSidecar(c) && cs.State.Running != nil && cs.Started != nil && *cs.Started) {
			incomplete = append(incomplete, c.Name)
		}
		if isSidecar(c) && cs.State.Running != nil {
			// A sidecar counts for the pod's readiness, as in the kubelet.
			if !cs.Ready {
				sidecarsReady = false
				unready = append(unready, c.Name)
			}
			if cs.Started != nil && *cs.Started {
				continue
			}
		}
		initDone = false
		if cur := pc.latest(c.Name); cur != nil && cur.State == runtime.StateExited && restartPolicyOf(pod, c) == v1.RestartPolicyNever && !beforeRestart(cur, rec.restartAt()) {
			initFailed = true
		}
	}
	// The phase follows the kubelet's getPhase: a container waiting to be
	// restarted counts as stopped, not as waiting.
	running, stopped, succeeded, waiting := 0, 0, 0, 0
	restarting := false
	allReady := true
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := w.containerStatus(rec, c, pc, now, len(pod.Spec.InitContainers) > 0)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == waitingRestart && cs.LastTerminationState.Terminated != nil &&
			cs.LastTerminationState.Terminated.Reason == ReasonRestarted:
			waiting++ // stopped by a restart, about to run again
			restarting = true
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++
		default:
			waiting++
		}
		if !cs.Ready {
			allReady = false
			unready = append(unready, c.Name)
		}
	}
	n := len(pod.Spec.Containers)
	switch {
	case initFailed:
		st.Phase = v1.PodFailed
	case restarting && old.Phase == v1.PodRunning:
		// A phase never goes back: a pod restarted in place stays
		// Running while its containers start again.
		st.Phase = v1.PodRunning
	case !initDone || sandboxErr != nil || waiting > 0:
		st.Phase = v1.PodPending
	case running > 0:
		st.Phase = v1.PodRunning
	case stopped > 0 && pod.Spec.RestartPolicy == v1.RestartPolicyAlways:
		st.Phase = v1.PodRunning
	case stopped > 0 && stopped == succeeded:
		st.Phase = v1.PodSucceeded
	case stopped > 0 && pod.Spec.RestartPolicy == v1.RestartPolicyNever:
		st.Phase = v1.PodFailed
	case stopped > 0:
		st.Phase = v1.PodRunning // OnFailure: the failed ones restart
	default:
		st.Phase = v1.PodPending
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && st.Phase != v1.PodSucceeded && st.Phase != v1.PodFailed &&
		!now.Before(w.startTime(rec).Add(time.Duration(*d)*time.Second)) {
		st.Phase, st.Reason, st.Message = v1.PodFailed, ReasonDeadlineExceeded, MessageDeadlineExceeded
		allReady = false
	}
	for i := range pod.Spec.EphemeralContainers {
		st.EphemeralContainerStatuses = append(st.EphemeralContainerStatuses, w.ephemeralStatus(rec, &pod.Spec.EphemeralContainers[i], pc, now))
	}
	if ev := rec.Evicted; ev != nil {
		st.Phase, st.Reason, st.Message = v1.PodFailed, ev.Reason, ev.Message
		allReady = false
	}
	ready := allReady && sidecarsReady && initDone && n > 0
	st.Conditions = conditions(old.Conditions, now,
		cond(v1.PodScheduled, true, "", ""),
		cond(v1.PodInitialized, initDone, "ContainersNotInitialized", namesMessage("containers with incomplete status", incomplete)),
		cond(v1.ContainersReady, ready, "ContainersNotReady", namesMessage("containers with unready status", unready)),
		cond(v1.PodReady, ready, "ContainersNotReady", namesMessage("containers with unready status", unready)),
	)
	st.Conditions = append(st.Conditions, w.resizeConditions(rec, pc, old.Conditions, now)...)
	// The spec generation this status is of (PodObservedGenerationTracking,
	// on by default since 1.34): an API pod's, counted by the API server.
	st.ObservedGeneration = pod.Generation
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = pod.Generation
	}
	if ev := rec.Evicted; ev != nil {
		// The kubelet's condition of a pod it evicts.
		st.Conditions = append(st.Conditions, v1.PodCondition{
			Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: ev.ConditionReason,
			Message: ev.Message, LastTransitionTime: metav1.NewTime(ev.At),
		})
	}
	return st
}

type condSpec struct {
	typ             v1.PodConditionType
	ok              bool
	reason, message string
}

func cond(t v1.PodConditionType, ok bool, reason, message string) condSpec {
	return condSpec{t, ok, reason, message}
}

// namesMessage is the kubelet's message of a false condition naming
// containers, e.g. "containers with unready status: [app side]"; "" when
// none is named.
func namesMessage(what string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return what + ": [" + strings.Join(names, " ") + "]"
}

// conditions keeps lastTransitionTime from the previous status unless the
// condition changed.
func conditions(old []v1.PodCondition, now time.Time, specs ...condSpec) []v1.PodCondition {
	out := make([]v1.PodCondition, 0, len(specs))
	for _, s := range specs {
		c := v1.PodCondition{Type: s.typ, Status: v1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}
		if !s.ok {
			c.Status = v1.ConditionFalse
			c.Reason, c.Message = s.reason, s.message
		}
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	return out
}

// waitingRestart is the waiting reason of a container stopped by a pod
// restart until it runs again: the reason a container waiting for its
// first start has.
const waitingRestart = "ContainerCreating"

// containerStatus is the status of container c. A container not made yet
// waits with reason PodInitializing in a pod with init containers
// (hasInit: init and app containers alike, as the kubelet's default
// waiting state), ContainerCreating otherwise.
func (w *worker) containerStatus(rec podRecord, c *v1.Container, pc observed, now time.Time, hasInit bool) v1.ContainerStatus {
	pod := rec.Pod
	restartAt := rec.restartAt()
	cs := v1.ContainerStatus{Name: c.Name, Image: c.Image}
	cur := pc.latest(c.Name)
	w.mu.Lock()
	g, hasGate := w.gates[c.Name]
	failure, hasFailure := w.lastErr[c.Name]
	w.mu.Unlock()

	if prev := pc.previous(c.Name); prev != nil && prev.State == runtime.StateExited {
		cs.LastTerminationState = v1.ContainerState{Terminated: terminatedBy(prev, restartAt)}
		cs.LastTerminationState.Terminated.Message = w.terminationMessage(c, prev)
	}
	if cur == nil {
		reason := "ContainerCreating"
		if hasInit {
			reason = "PodInitializing"
		}
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: reason}
		if hasFailure {
			cs.State.Waiting = &v1.ContainerStateWaiting{Reason: failure.reason, Message: failure.message}
		}
		return cs
	}
	cs.RestartCount = int32(restartCountOf(cur))
	cs.ContainerID = "containerd://" + cur.ID
	cs.ImageID = cur.ImageID
	if img, ok := cur.Labels[labelImage]; ok {
		cs.Image = img // the container's, until it runs the pod's new image
	}
	cs.Resources = statusResources(c, cur)
	f := false
	cs.Started = &f
	switch cur.State {
	case runtime.StateRunning:
		started, ready := w.probeView(c, cur.ID)
		cs.Started = &started
		cs.State.Running = &v1.ContainerStateRunning{StartedAt: metav1.NewTime(cur.StartedAt)}
		cs.Ready = ready
	case runtime.StateExited:
		term := terminatedBy(cur, restartAt)
		term.Message = w.terminationMessage(c, cur)
		if beforeRestart(cur, restartAt) {
			cs.State.Waiting = &v1.ContainerStateWaiting{Reason: waitingRestart}
			cs.LastTerminationState = v1.ContainerState{Terminated: term}
			break
		}
		willRestart := restart.ShouldRestart(restartPolicyOf(pod, c), cur.ExitCode)
		if willRestart && hasGate && g.forID == cur.ID && now.Before(g.due) {
			left := g.due.Sub(now).Round(time.Second)
			cs.State.Waiting = &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", left, c.Name, pod.Name, pod.Namespace, pod.UID)}
			cs.LastTerminationState = v1.ContainerState{Terminated: term}
		} else {
			cs.State.Terminated = term
		}
	default:
		cs.State.Waiting = &v1.ContainerStateWaiting{Reason: "ContainerCreating"}
		if hasFailure {
			cs.State.Waiting = &v1.ContainerStateWaiting{Reason: failure.reason, Message: failure.message}
		}
	}
	return cs
}

// ephemeralStatus is an ephemeral container's status: as a container's,
// except that it never restarts, so an exit is its final state.
func (w *worker) ephemeralStatus(rec podRecord, ec *v1.EphemeralContainer, pc observed, now time.Time) v1.ContainerStatus {
	c := v1.Container(ec.EphemeralContainerCommon)
	cs := w.containerStatus(rec, &c, pc, now, false)
	if cur := pc.latest(c.Name); cur != nil && cur.State == runtime.StateExited {
		cs.State = v1.ContainerState{Terminated: terminated(cur)}
		cs.State.Terminated.Message = w.terminationMessage(&c, cur)
		cs.LastTerminationState = v1.ContainerState{}
	}
	return cs
}

// terminatedBy is terminated, with the reason Restarted for an attempt a
// pod restart requested at restartAt stopped.
func terminatedBy(c *runtime.Container, restartAt time.Time) *v1.ContainerStateTerminated {
	t := terminated(c)
	if beforeRestart(c, restartAt) && !c.FinishedAt.Before(restartAt) {
		t.Reason = ReasonRestarted
	}
	return t
}

func terminated(c *runtime.Container) *v1.ContainerStateTerminated {
	reason := "Completed"
	if c.ExitCode != 0 {
		reason = "Error"
	}
	if c.OOMKilled {
		reason = "OOMKilled"
	}
	return &v1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Reason:      reason,
		StartedAt:   metav1.NewTime(c.StartedAt),
		FinishedAt:  metav1.NewTime(c.FinishedAt),
		ContainerID: "containerd://" + c.ID,
	}
}

// qosClass is the pod's QoS class by the kubelet's rules.
func qosClass(pod *v1.Pod) v1.PodQOSClass {
	any, guaranteed := false, true
	for _, c := range append(append([]v1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, r := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq || hasLim {
				any = true
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return v1.PodQOSBestEffort
	case guaranteed:
		return v1.PodQOSGuaranteed
	}
	return v1.PodQOSBurstable
}
