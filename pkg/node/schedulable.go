package node

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// The scheduler's words for a pod that waits because it does not fit the
// node.
const (
	// ReasonUnschedulable is the reason of the pod's PodScheduled=False
	// condition.
	ReasonUnschedulable = v1.PodReasonUnschedulable
	// MessageUnschedulable is its message for a cordoned node.
	MessageUnschedulable = "0/1 nodes are available: 1 node(s) were unschedulable."
	// MessageNodeSelector is its message for a node whose labels do not
	// match the pod's nodeSelector or required node affinity.
	MessageNodeSelector = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
)

// Schedulable is what the scheduler's filters decide for a pod from a
// manifest file, on the one node there is, in the scheduler's order:
// NodeUnschedulable (a cordoned node takes no pod unless it tolerates
// node.kubernetes.io/unschedulable:NoSchedule, as DaemonSet pods do),
// TaintToleration (the operator's NoSchedule and NoExecute taints must be
// tolerated), NodeAffinity (nodeSelector and required node affinity must
// match the node's labels). The matching is the scheduler's own code
// (k8s.io/component-helpers). A pod that does not fit waits, Pending,
// until the node changes (uncordon, minilet taint or label node): on a
// cluster it would wait for a node that fits.
func Schedulable(pod *v1.Pod, node *v1.Node) (ok bool, reason, message string) {
	if node.Spec.Unschedulable {
		taint := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
		if !corev1helpers.TolerationsTolerateTaint(pod.Spec.Tolerations, &taint) {
			return false, ReasonUnschedulable, MessageUnschedulable
		}
	}
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Key == v1.TaintNodeUnschedulable || t.Effect == v1.TaintEffectPreferNoSchedule {
			continue
		}
		if !corev1helpers.TolerationsTolerateTaint(pod.Spec.Tolerations, t) {
			return false, ReasonUnschedulable, fmt.Sprintf("0/1 nodes are available: 1 node(s) had untolerated taint {%s: %s}.", t.Key, t.Value)
		}
	}
	if match, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !match {
		return false, ReasonUnschedulable, MessageNodeSelector
	}
	return true, "", ""
}
