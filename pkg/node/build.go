package node

import (
	"runtime"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OperatorSpec is what the operator set on the node (SpecStore): the
// cordon, labels over --node-labels (a nil value removes one) and taints.
type OperatorSpec struct {
	Cordoned bool
	Labels   map[string]*string
	Taints   []v1.Taint
}

// Build returns the v1.Node minilet reports for info and host at now.
// spec.Cordoned sets spec.unschedulable and the unschedulable taint, as
// `kubectl cordon` shows them; the operator's taints come first. Every
// condition's lastHeartbeatTime and lastTransitionTime is now; a
// ConditionTracker carries transition times over from one Build to the
// next.
func Build(info Info, host HostStats, spec OperatorSpec, now time.Time) v1.Node {
	cordoned := spec.Cordoned
	hostname := info.Hostname
	if hostname == "" {
		hostname = info.Name
	}
	conds := conditions(host, metav1.NewTime(now))
	n := v1.Node{
		TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              info.Name,
			Labels:            nodeLabels(info.Name, info.Labels, spec.Labels),
			CreationTimestamp: metav1.NewTime(info.Created),
		},
		Spec: v1.NodeSpec{
			Unschedulable: cordoned,
			Taints:        mergeTaints(spec.Taints, taints(cordoned, conds)),
		},
		Status: v1.NodeStatus{
			Capacity:    capacity(host),
			Allocatable: allocatable(host),
			Conditions:  conds,
			Addresses:   addresses(info.InternalIP, hostname),
			NodeInfo: v1.NodeSystemInfo{
				MachineID:               info.System.MachineID,
				SystemUUID:              info.System.SystemUUID,
				BootID:                  info.System.BootID,
				KernelVersion:           info.System.KernelVersion,
				OSImage:                 info.System.OSImage,
				ContainerRuntimeVersion: info.RuntimeVersion,
				KubeletVersion:          info.MiniletVersion,
				OperatingSystem:         runtime.GOOS,
				Architecture:            runtime.GOARCH,
			},
		},
	}
	if info.KubeletPort != 0 {
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = info.KubeletPort
	}
	if info.PodCIDR != "" {
		n.Spec.PodCIDR = info.PodCIDR
		n.Spec.PodCIDRs = []string{info.PodCIDR}
	}
	return n
}

func addresses(internalIP, hostname string) []v1.NodeAddress {
	var out []v1.NodeAddress
	if internalIP != "" {
		out = append(out, v1.NodeAddress{Type: v1.NodeInternalIP, Address: internalIP})
	}
	if hostname != "" {
		out = append(out, v1.NodeAddress{Type: v1.NodeHostName, Address: hostname})
	}
	return out
}

// mergeTaints is set followed by each of computed that set does not
// already hold (same key and effect): in cluster mode the API server's
// taints may already carry the ones minilet computes.
func mergeTaints(set, computed []v1.Taint) []v1.Taint {
	out := slices.Clone(set)
	for _, c := range computed {
		if !slices.ContainsFunc(out, func(t v1.Taint) bool { return t.MatchTaint(&c) }) {
			out = append(out, c)
		}
	}
	return out
}

// taints are the NoSchedule taints the node lifecycle controller puts on
// a node for its spec and conditions: unschedulable for a cordoned node,
// not-ready, and one per pressure.
func taints(cordoned bool, conds []v1.NodeCondition) []v1.Taint {
	var out []v1.Taint
	if cordoned {
		out = append(out, v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule})
	}
	for _, c := range conds {
		var key string
		switch {
		case c.Type == v1.NodeReady && c.Status != v1.ConditionTrue:
			key = v1.TaintNodeNotReady
		case c.Type == v1.NodeMemoryPressure && c.Status == v1.ConditionTrue:
			key = v1.TaintNodeMemoryPressure
		case c.Type == v1.NodeDiskPressure && c.Status == v1.ConditionTrue:
			key = v1.TaintNodeDiskPressure
		case c.Type == v1.NodePIDPressure && c.Status == v1.ConditionTrue:
			key = v1.TaintNodePIDPressure
		default:
			continue
		}
		out = append(out, v1.Taint{Key: key, Effect: v1.TaintEffectNoSchedule})
	}
	return out
}
