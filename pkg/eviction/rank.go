package eviction

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// Candidate is a running pod eviction may pick, with what it uses.
type Candidate struct {
	Pod *v1.Pod // spec and status
	// Static: the pod comes from a manifest file (the kubelet's static
	// pods, which it counts as critical and never evicts).
	Static bool
	Usage  Usage
}

// Usage is what a pod uses now. Found is false when it could not be
// measured: the kubelet evicts such a pod first.
type Usage struct {
	Found  bool
	Memory int64 // working set, bytes
	// Volumes, Logs and Rootfs are bytes on disk of the pod's local
	// volumes (emptyDir on disk), of its containers' logs, and of its
	// containers' writable layers; the Inodes fields count files.
	Volumes, Logs, Rootfs                 int64
	VolumeInodes, LogInodes, RootfsInodes int64
	Processes                             int64
	Containers                            map[string]ContainerUsage
}

// ContainerUsage is one container's share, for the eviction message.
type ContainerUsage struct {
	Memory       int64 // working set, bytes
	Logs, Rootfs int64 // bytes
}

// fsParts says which parts of a pod's disk use count for a filesystem
// signal: with the images on their own filesystem, nodefs holds the
// volumes and logs and imagefs the writable layers; on one filesystem
// all count for both, as the kubelet ranks them.
type fsParts struct{ volumes, logs, rootfs bool }

// sum adds the parts p counts of one measure (bytes or inodes) of the
// volumes, logs and writable layers.
func (p fsParts) sum(volumes, logs, rootfs int64) int64 {
	var n int64
	if p.volumes {
		n += volumes
	}
	if p.logs {
		n += logs
	}
	if p.rootfs {
		n += rootfs
	}
	return n
}

func (u Usage) disk(p fsParts) int64   { return p.sum(u.Volumes, u.Logs, u.Rootfs) }
func (u Usage) inodes(p fsParts) int64 { return p.sum(u.VolumeInodes, u.LogInodes, u.RootfsInodes) }

// partsFor is what counts for signal s.
func partsFor(s Signal, dedicatedImageFs bool) fsParts {
	if !dedicatedImageFs {
		return fsParts{true, true, true}
	}
	switch s {
	case SignalImageFsAvailable, SignalImageFsInodesFree:
		return fsParts{rootfs: true}
	}
	return fsParts{volumes: true, logs: true}
}

// usageOf is what a candidate uses of the resource signal s measures.
func usageOf(c Candidate, s Signal, dedicatedImageFs bool) int64 {
	switch resourceOf(s) {
	case v1.ResourceMemory:
		return c.Usage.Memory
	case v1.ResourceEphemeralStorage:
		return c.Usage.disk(partsFor(s, dedicatedImageFs))
	case resourceInodes:
		return c.Usage.inodes(partsFor(s, dedicatedImageFs))
	}
	return c.Usage.Processes
}

// requestOf is the pod's request of r (the larger of its init
// containers' and the sum of its containers', as the scheduler counts);
// zero for inodes and PIDs.
func requestOf(pod *v1.Pod, r v1.ResourceName) int64 {
	if r != v1.ResourceMemory && r != v1.ResourceEphemeralStorage {
		return 0
	}
	q := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})[r]
	return q.Value()
}

// rank orders candidates for eviction under signal s, as the kubelet:
// memory: usage above requests first, then lower priority, then more
// usage above requests; disk and inodes: the same with disk usage and
// ephemeral-storage requests; PIDs: lower priority, then more processes.
// Pods whose usage could not be measured come first.
func rank(cands []Candidate, s Signal, dedicatedImageFs bool) {
	r := resourceOf(s)
	exceeds := func(c Candidate) bool { return usageOf(c, s, dedicatedImageFs) > requestOf(c.Pod, r) }
	above := func(c Candidate) int64 { return usageOf(c, s, dedicatedImageFs) - requestOf(c.Pod, r) }
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Usage.Found != b.Usage.Found {
			return !a.Usage.Found
		}
		if r != resourcePIDs {
			if ea, eb := exceeds(a), exceeds(b); ea != eb {
				return ea
			}
		}
		if pa, pb := corev1helpers.PodPriority(a.Pod), corev1helpers.PodPriority(b.Pod); pa != pb {
			return pa < pb
		}
		if r == resourcePIDs {
			return a.Usage.Processes > b.Usage.Processes
		}
		return above(a) > above(b)
	})
}

// quantity is n as the kubelet prints amounts in its messages.
func quantity(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.BinarySI) }
