package node

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditions are the kubelet's four node conditions, with its reasons and
// messages worded for minilet. Ready is the last, as the kubelet orders
// them.
func conditions(h HostStats, now metav1.Time) []v1.NodeCondition {
	cond := func(t v1.NodeConditionType, status bool, reasonTrue, msgTrue, reasonFalse, msgFalse string) v1.NodeCondition {
		c := v1.NodeCondition{Type: t, Status: v1.ConditionFalse, Reason: reasonFalse, Message: msgFalse,
			LastHeartbeatTime: now, LastTransitionTime: now}
		if status {
			c.Status, c.Reason, c.Message = v1.ConditionTrue, reasonTrue, msgTrue
		}
		return c
	}
	ready := cond(v1.NodeReady, h.RuntimeErr == nil,
		"KubeletReady", "minilet is ready",
		"KubeletNotReady", "")
	if h.RuntimeErr != nil {
		ready.Message = fmt.Sprintf("container runtime is down: %v", h.RuntimeErr)
	}
	return []v1.NodeCondition{
		cond(v1.NodeMemoryPressure, MemoryPressure(h),
			"KubeletHasInsufficientMemory", "minilet has insufficient memory available",
			"KubeletHasSufficientMemory", "minilet has sufficient memory available"),
		cond(v1.NodeDiskPressure, DiskPressure(h),
			"KubeletHasDiskPressure", "minilet has disk pressure",
			"KubeletHasNoDiskPressure", "minilet has no disk pressure"),
		cond(v1.NodePIDPressure, PIDPressure(h),
			"KubeletHasInsufficientPID", "minilet has insufficient PID available",
			"KubeletHasSufficientPID", "minilet has sufficient PID available"),
		ready,
	}
}

// MemoryPressure is the kubelet's memory.available<100Mi signal.
func MemoryPressure(h HostStats) bool {
	return h.MemoryTotal > 0 && h.MemoryAvailable < evictionMemoryAvailable
}

// DiskPressure is the kubelet's nodefs.available<10% signal.
func DiskPressure(h HostStats) bool {
	return h.FsCapacity > 0 && h.FsAvailable*100 < h.FsCapacity*evictionNodefsPercent
}

// PIDPressure is true when fewer than 10% of the system's PIDs are free.
func PIDPressure(h HostStats) bool {
	return h.MaxPIDs > 0 && (h.MaxPIDs-h.Tasks)*100 < h.MaxPIDs*evictionPIDPercent
}
