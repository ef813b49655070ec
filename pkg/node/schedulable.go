package node

import (
	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// The scheduler's words for a pod that waits because the node is
// cordoned.
const (
	// ReasonUnschedulable is the reason of the pod's PodScheduled=False
	// condition.
	ReasonUnschedulable = v1.PodReasonUnschedulable
	// MessageUnschedulable is its message.
	MessageUnschedulable = "0/1 nodes are available: 1 node(s) were unschedulable."
)

// Schedulable is the scheduler's NodeUnschedulable rule: a cordoned node
// takes no new pod unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint (as DaemonSet pods
// do). Unlike Admit's refusal, this one is temporary: the pod waits,
// Pending, until the node is uncordoned.
func Schedulable(pod *v1.Pod, node *v1.Node) (ok bool, reason, message string) {
	if !node.Spec.Unschedulable {
		return true, "", ""
	}
	taint := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
	if corev1helpers.TolerationsTolerateTaint(pod.Spec.Tolerations, &taint) {
		return true, "", ""
	}
	return false, ReasonUnschedulable, MessageUnschedulable
}
