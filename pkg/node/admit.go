package node

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// The kubelet's words for a pod its node does not match.
const (
	// ReasonNodeAffinity is the reason of a refused pod's status and of
	// its Warning event.
	ReasonNodeAffinity = "NodeAffinity"
	// EventMessageNodeAffinity is the message of the Warning event.
	EventMessageNodeAffinity = "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
	// MessageNodeAffinity is the message of the pod's status, which is
	// Failed.
	MessageNodeAffinity = "Pod was rejected: " + EventMessageNodeAffinity
)

// Admit is the kubelet's node affinity admission rule: a pod whose
// spec.nodeSelector, or whose required node affinity
// (requiredDuringSchedulingIgnoredDuringExecution: matchExpressions on
// labels, matchFields on metadata.name), does not match node is refused.
// A refused pod is not started: the kubelet records a Warning event
// (ReasonNodeAffinity, EventMessageNodeAffinity) and sets the pod's phase
// to Failed with reason and message.
//
// The matching is the scheduler's and the kubelet's own code
// (k8s.io/component-helpers); as in the kubelet, a selector that does not
// parse matches nothing.
func Admit(pod *v1.Pod, node *v1.Node) (ok bool, reason, message string) {
	match, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)
	if err != nil || !match {
		return false, ReasonNodeAffinity, MessageNodeAffinity
	}
	return true, "", ""
}
