package node

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditions are the kubelet's four node conditions, with its reasons and
// messages worded for minilet; the pressure conditions are the eviction
// manager's (h.Pressure). Ready is the last, as the kubelet orders
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
		cond(v1.NodeMemoryPressure, h.Pressure.Memory,
			"KubeletHasInsufficientMemory", "minilet has insufficient memory available",
			"KubeletHasSufficientMemory", "minilet has sufficient memory available"),
		cond(v1.NodeDiskPressure, h.Pressure.Disk,
			"KubeletHasDiskPressure", "minilet has disk pressure",
			"KubeletHasNoDiskPressure", "minilet has no disk pressure"),
		cond(v1.NodePIDPressure, h.Pressure.PID,
			"KubeletHasInsufficientPID", "minilet has insufficient PID available",
			"KubeletHasSufficientPID", "minilet has sufficient PID available"),
		ready,
	}
}
