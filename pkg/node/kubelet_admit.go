package node

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// KubeletAdmit is what the kubelet's admission (its predicate handler)
// decides for a pod the scheduler bound to this node, in the kubelet's
// order, with its reasons and messages; a pod it refuses is Failed:
//   - resources: the pod's requests (init containers, sidecars and
//     overhead counted as the scheduler counts them) over what the other
//     pods request of allocatable cpu, memory and ephemeral-storage, and
//     one pod more than allocatable pods: OutOfcpu, OutOfmemory,
//     OutOfephemeral-storage, OutOfpods;
//   - NodeAffinity: nodeSelector and required node affinity;
//   - NodeName: a pod bound to another node;
//   - TaintToleration: only NoExecute taints (the scheduler saw the
//     others).
//
// Extended resources are the device allocator's (devices.Allocate).
// others are the node's other admitted pods that have not ended.
func KubeletAdmit(pod *v1.Pod, node *v1.Node, allocatable v1.ResourceList, others []*v1.Pod) (ok bool, reason, message string) {
	if r, msg := insufficient(pod, allocatable, others); r != "" {
		return false, r, msg
	}
	if match, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !match {
		return false, "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != node.Name {
		return false, "NodeName", "Predicate NodeName failed: node(s) didn't match the requested node name"
	}
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, func(t *v1.Taint) bool {
		return t.Effect == v1.TaintEffectNoExecute
	})
	if untolerated {
		return false, "TaintToleration", "Predicate TaintToleration failed: node(s) had untolerated taint(s)"
	}
	return true, "", ""
}

// insufficient is the first resource the pod does not fit in, as the
// kubelet's InsufficientResourceError: its reason and message ("" when
// it fits). Quantities are in the scheduler's units: millicores for cpu,
// bytes for memory and storage.
func insufficient(pod *v1.Pod, allocatable v1.ResourceList, others []*v1.Pod) (reason, message string) {
	if alloc, ok := allocatable[v1.ResourcePods]; ok && int64(len(others))+1 > alloc.Value() {
		return "OutOfpods", fmt.Sprintf("Node didn't have enough resource: pods, requested: 1, used: %d, capacity: %d", len(others), alloc.Value())
	}
	want := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	used := v1.ResourceList{}
	for _, o := range others {
		for name, q := range resourcehelper.PodRequests(o, resourcehelper.PodResourcesOptions{}) {
			sum := used[name]
			sum.Add(q)
			used[name] = sum
		}
	}
	for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage} {
		req, asked := want[name]
		alloc, known := allocatable[name]
		if !asked || req.IsZero() || !known {
			continue
		}
		u := used[name]
		if value(name, req)+value(name, u) > value(name, alloc) {
			return "OutOf" + string(name), fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
				name, value(name, req), value(name, u), value(name, alloc))
		}
	}
	return "", ""
}

// value is q in the scheduler's unit for name.
func value(name v1.ResourceName, q resource.Quantity) int64 {
	if name == v1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// ResizeCapacityMessage is why a resize of pod (its new requests) can
// never fit this node, as the kubelet's allocation manager says it
// (reason Infeasible); "" when its cpu and memory requests are within the
// node's allocatable.
func ResizeCapacityMessage(pod *v1.Pod, allocatable v1.ResourceList) string {
	want := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	cpu, mem := want[v1.ResourceCPU], want[v1.ResourceMemory]
	allocCPU, allocMem := allocatable[v1.ResourceCPU], allocatable[v1.ResourceMemory]
	switch {
	case !allocMem.IsZero() && mem.Value() > allocMem.Value():
		return fmt.Sprintf("Node didn't have enough capacity: memory, requested: %d, capacity: %d", mem.Value(), allocMem.Value())
	case !allocCPU.IsZero() && cpu.MilliValue() > allocCPU.MilliValue():
		return fmt.Sprintf("Node didn't have enough capacity: cpu, requested: %d, capacity: %d", cpu.MilliValue(), allocCPU.MilliValue())
	}
	return ""
}
