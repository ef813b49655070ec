package node

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// MaxPods is the pods capacity, the kubelet's default maxPods.
const MaxPods = 110

// The kubelet's default hard eviction thresholds, which are also what
// allocatable keeps back from capacity when nothing is reserved.
const (
	// evictionMemoryAvailable: memory.available<100Mi.
	evictionMemoryAvailable = 100 << 20
	// evictionNodefsPercent: nodefs.available<10%.
	evictionNodefsPercent = 10
)

// capacity is the node's total resources. Unknown amounts are left out.
func capacity(h HostStats) v1.ResourceList {
	rl := v1.ResourceList{v1.ResourcePods: *resource.NewQuantity(MaxPods, resource.DecimalSI)}
	if h.NumCPU > 0 {
		rl[v1.ResourceCPU] = *resource.NewQuantity(int64(h.NumCPU), resource.DecimalSI)
	}
	if h.MemoryTotal > 0 {
		rl[v1.ResourceMemory] = *resource.NewQuantity(h.MemoryTotal, resource.BinarySI)
	}
	if h.FsCapacity > 0 {
		rl[v1.ResourceEphemeralStorage] = *resource.NewQuantity(h.FsCapacity, resource.BinarySI)
	}
	for r, q := range h.Extended {
		rl[r] = q.DeepCopy()
	}
	return rl
}

// allocatable is capacity less the hard eviction thresholds, as the
// kubelet computes it with no kube-reserved or system-reserved.
func allocatable(h HostStats) v1.ResourceList {
	rl := capacity(h)
	res := h.Reserved
	if !res.Set {
		res = Reserved{Memory: evictionMemoryAvailable, EphemeralStorage: h.FsCapacity * evictionNodefsPercent / 100}
	}
	if h.MemoryTotal > 0 {
		rl[v1.ResourceMemory] = *resource.NewQuantity(max(h.MemoryTotal-res.Memory, 0), resource.BinarySI)
	}
	if h.FsCapacity > 0 {
		rl[v1.ResourceEphemeralStorage] = *resource.NewQuantity(max(h.FsCapacity-res.EphemeralStorage, 0), resource.BinarySI)
	}
	return rl
}
