package eviction

import (
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/node"
)

// Observation is one signal's measure: how much is available of how much
// (bytes, inodes or process IDs).
type Observation struct{ Available, Capacity int64 }

// Observations are the signals measured at one time.
type Observations map[Signal]Observation

// Resource names of the signals' resources, as the kubelet's: what an
// eviction message says the node was low on.
const (
	resourceInodes v1.ResourceName = "inodes"
	resourcePIDs   v1.ResourceName = "pids"
)

// resourceOf is the resource a signal measures.
func resourceOf(s Signal) v1.ResourceName {
	switch s {
	case SignalMemoryAvailable:
		return v1.ResourceMemory
	case SignalNodeFsAvailable, SignalImageFsAvailable:
		return v1.ResourceEphemeralStorage
	case SignalNodeFsInodesFree, SignalImageFsInodesFree:
		return resourceInodes
	}
	return resourcePIDs
}

// conditionOf is the node condition a signal's pressure sets.
func conditionOf(s Signal) v1.NodeConditionType {
	switch s {
	case SignalMemoryAvailable:
		return v1.NodeMemoryPressure
	case SignalPIDAvailable:
		return v1.NodePIDPressure
	}
	return v1.NodeDiskPressure
}

// isDisk reports whether s is a filesystem signal, relieved by reclaiming
// images and dead containers before any pod is evicted.
func isDisk(s Signal) bool { return conditionOf(s) == v1.NodeDiskPressure }

// pressureConditions lists the true conditions in the kubelet's order.
func pressureConditions(p node.Pressure) []v1.NodeConditionType {
	var out []v1.NodeConditionType
	if p.Memory {
		out = append(out, v1.NodeMemoryPressure)
	}
	if p.Disk {
		out = append(out, v1.NodeDiskPressure)
	}
	if p.PID {
		out = append(out, v1.NodePIDPressure)
	}
	return out
}

// PodRef is a running pod as the pod manager tells it: what eviction
// needs to measure it.
type PodRef struct {
	Pod    *v1.Pod // spec and status
	Static bool    // from a manifest file
	// CgroupParent is the pod's cgroup, relative to each hierarchy.
	CgroupParent string
	// VolumesDir holds the pod's local volumes; LogDir its logs, one
	// directory per container.
	VolumesDir, LogDir string
	// Containers are the IDs of the running containers, by name (each
	// one's cgroup is CgroupParent/<ID>).
	Containers map[string]string
}

// StartTimes are when the pod's running containers started, by name (as
// its status says).
func (r PodRef) StartTimes() map[string]time.Time {
	out := map[string]time.Time{}
	for _, list := range [][]v1.ContainerStatus{r.Pod.Status.InitContainerStatuses, r.Pod.Status.ContainerStatuses} {
		for _, cs := range list {
			if run := cs.State.Running; run != nil {
				out[cs.Name] = run.StartedAt.Time
			}
		}
	}
	return out
}
