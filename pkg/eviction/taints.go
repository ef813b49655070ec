package eviction

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// The taint eviction controller's words (kube-controller-manager), for a
// pod that does not tolerate a NoExecute taint of its node.
const (
	// TaintReason is the reason of the pod's DisruptionTarget condition
	// (and minilet's status reason for it).
	TaintReason = "DeletionByTaintManager"
	// TaintMessage is that condition's message.
	TaintMessage = "Taint manager: deleting due to NoExecute taint"
	// TaintEventReason is the reason of the pod's event.
	TaintEventReason = "TaintManagerEviction"
)

// TaintDeadline is the taint eviction controller's decision for a running
// pod on a node with taints: a pod that does not tolerate every NoExecute
// taint goes at once (at = now); one that tolerates them all goes at the
// end of the shortest tolerationSeconds of the tolerations it uses,
// counted from when the earliest of those taints was added; a pod whose
// tolerations have no tolerationSeconds stays (ok false).
func TaintDeadline(pod *v1.Pod, taints []v1.Taint, now time.Time) (at time.Time, ok bool) {
	var noExec []v1.Taint
	for _, t := range taints {
		if t.Effect == v1.TaintEffectNoExecute {
			noExec = append(noExec, t)
		}
	}
	if len(noExec) == 0 {
		return time.Time{}, false
	}
	minSeconds := int64(-1)
	start := now
	for i := range noExec {
		t := &noExec[i]
		tolerated := false
		for j := range pod.Spec.Tolerations {
			tol := &pod.Spec.Tolerations[j]
			if !tol.ToleratesTaint(t) {
				continue
			}
			tolerated = true
			if s := tol.TolerationSeconds; s != nil {
				sec := max(*s, 0)
				if minSeconds < 0 || sec < minSeconds {
					minSeconds = sec
				}
			}
		}
		if !tolerated {
			return now, true
		}
		if t.TimeAdded != nil && t.TimeAdded.Time.Before(start) {
			start = t.TimeAdded.Time
		}
	}
	if minSeconds < 0 {
		return time.Time{}, false
	}
	return start.Add(time.Duration(minSeconds) * time.Second), true
}

// taintEviction is the eviction of a pod a NoExecute taint removes, with
// the pod's own grace period, as the controller's API delete.
func taintEviction(pod *v1.Pod) Eviction {
	grace := int64(v1.DefaultTerminationGracePeriodSeconds)
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	return Eviction{Pod: pod, Reason: TaintReason, ConditionReason: TaintReason, Message: TaintMessage,
		EventType: v1.EventTypeNormal, EventReason: TaintEventReason,
		EventMessage: "Marking for deletion Pod " + pod.Namespace + "/" + pod.Name, GracePeriod: grace}
}
