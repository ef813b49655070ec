package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// ownConditions are the node conditions minilet reports; others (such as
// NetworkUnavailable, set by a network plugin) are left as they are.
var ownConditions = []v1.NodeConditionType{v1.NodeReady, v1.NodeMemoryPressure, v1.NodeDiskPressure, v1.NodePIDPressure}

// registrationNode is the Node minilet creates: local as the Reporter
// builds it, without what the API server or the controllers own
// (creation time, the condition taints the node lifecycle controller
// sets).
func registrationNode(local v1.Node) *v1.Node {
	n := local.DeepCopy()
	n.TypeMeta = metaNode
	n.CreationTimestamp = zeroTime
	n.Spec.Taints = operatorTaints(n.Spec.Taints)
	return n
}

// operatorTaints drops the node.kubernetes.io/ taints: the node lifecycle
// controller sets those from the conditions and the cordon.
func operatorTaints(ts []v1.Taint) []v1.Taint {
	var out []v1.Taint
	for _, t := range ts {
		if !strings.HasPrefix(t.Key, "node.kubernetes.io/") {
			out = append(out, t)
		}
	}
	return out
}

// desiredStatus is api's status with what minilet reports taken from
// local: capacity, allocatable, its conditions, addresses, nodeInfo,
// daemon endpoints and images. A condition whose status did not change
// keeps the API server's lastTransitionTime, so that a restarted minilet
// does not move it.
func desiredStatus(api v1.NodeStatus, local v1.NodeStatus) v1.NodeStatus {
	out := *api.DeepCopy()
	out.Capacity = local.Capacity
	out.Allocatable = local.Allocatable
	out.Addresses = local.Addresses
	out.NodeInfo = local.NodeInfo
	out.DaemonEndpoints = local.DaemonEndpoints
	if local.Images != nil {
		out.Images = local.Images
	}
	for _, c := range local.Conditions {
		if !slices.Contains(ownConditions, c.Type) {
			continue
		}
		i := slices.IndexFunc(out.Conditions, func(o v1.NodeCondition) bool { return o.Type == c.Type })
		if i < 0 {
			out.Conditions = append(out.Conditions, c)
			continue
		}
		if out.Conditions[i].Status == c.Status && !out.Conditions[i].LastTransitionTime.IsZero() {
			c.LastTransitionTime = out.Conditions[i].LastTransitionTime
		}
		out.Conditions[i] = c
	}
	return out
}

// statusChanged reports whether want differs from have in more than the
// conditions' heartbeat times: a change worth a patch at once.
func statusChanged(have, want v1.NodeStatus) bool {
	strip := func(s v1.NodeStatus) v1.NodeStatus {
		s = *s.DeepCopy()
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime = zeroTime
		}
		return s
	}
	return !equality.Semantic.DeepEqual(strip(have), strip(want))
}

// planStatusReport decides whether to patch the Node's status: when it
// changed, or when the last report is reportEvery old (the kubelet's
// nodeStatusReportFrequency: with a Lease the status need not be sent
// unchanged any more often). It returns the patch, nil for none.
func planStatusReport(api *v1.Node, local v1.NodeStatus, lastReport, now time.Time, reportEvery time.Duration) ([]byte, error) {
	want := desiredStatus(api.Status, local)
	if !statusChanged(api.Status, want) && now.Sub(lastReport) < reportEvery {
		return nil, nil
	}
	return statusPatch(api, want)
}

// statusPatch is the strategic merge patch from api's status to want.
func statusPatch(api *v1.Node, want v1.NodeStatus) ([]byte, error) {
	oldJSON, err := json.Marshal(v1.Node{Status: api.Status})
	if err != nil {
		return nil, err
	}
	newJSON, err := json.Marshal(v1.Node{Status: want})
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, v1.Node{})
	if err != nil {
		return nil, fmt.Errorf("node status patch: %w", err)
	}
	if string(patch) == "{}" {
		// Nothing differs but the report is due: send the heartbeat
		// times anyway, as the kubelet does.
		return heartbeatPatch(want)
	}
	return patch, nil
}

// heartbeatPatch sets every condition as want has it (merged by type).
func heartbeatPatch(want v1.NodeStatus) ([]byte, error) {
	return json.Marshal(map[string]any{"status": map[string]any{"conditions": want.Conditions}})
}
