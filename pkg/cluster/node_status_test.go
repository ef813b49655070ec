package cluster

import (
	"encoding/json"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cond(t v1.NodeConditionType, s v1.ConditionStatus, at time.Time) v1.NodeCondition {
	return v1.NodeCondition{Type: t, Status: s, LastHeartbeatTime: metav1.NewTime(at), LastTransitionTime: metav1.NewTime(at)}
}

func TestPlanStatusReport(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(30 * time.Second)
	api := &v1.Node{Status: v1.NodeStatus{
		Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")},
		Conditions: []v1.NodeCondition{
			cond(v1.NodeReady, v1.ConditionTrue, t0),
			cond(v1.NodeNetworkUnavailable, v1.ConditionFalse, t0), // not minilet's
		},
	}}
	local := v1.NodeStatus{
		Capacity:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")},
		Conditions: []v1.NodeCondition{cond(v1.NodeReady, v1.ConditionTrue, t1)},
	}
	// Only heartbeats differ and the last report is recent: nothing.
	if patch, err := planStatusReport(api, local, t0, t1, time.Minute); err != nil || patch != nil {
		t.Fatalf("unchanged status: %s %v", patch, err)
	}
	// Due: a patch carrying the heartbeat, keeping the transition time.
	patch, err := planStatusReport(api, local, t0, t0.Add(2*time.Minute), time.Minute)
	if err != nil || patch == nil {
		t.Fatalf("due report: %s %v", patch, err)
	}
	var got v1.Node
	if err := json.Unmarshal(patch, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) == 0 || !got.Status.Conditions[0].LastHeartbeatTime.Time.Equal(t1) {
		t.Errorf("due patch %s", patch)
	}
	// Changed: Ready false is sent at once, with its own transition time;
	// NetworkUnavailable is left alone.
	local.Conditions = []v1.NodeCondition{cond(v1.NodeReady, v1.ConditionFalse, t1)}
	want := desiredStatus(api.Status, local)
	if want.Conditions[0].Status != v1.ConditionFalse || !want.Conditions[0].LastTransitionTime.Time.Equal(t1) || want.Conditions[1].Type != v1.NodeNetworkUnavailable {
		t.Errorf("desired %+v", want.Conditions)
	}
	if patch, _ := planStatusReport(api, local, t1, t1, time.Minute); patch == nil {
		t.Error("a changed condition was not sent")
	}
	// Same status after a restart of minilet: the API's transition time
	// stays.
	local.Conditions = []v1.NodeCondition{cond(v1.NodeReady, v1.ConditionTrue, t1)}
	if want := desiredStatus(api.Status, local); !want.Conditions[0].LastTransitionTime.Time.Equal(t0) {
		t.Errorf("transition time moved: %v", want.Conditions[0].LastTransitionTime)
	}
}

func TestSpecOf(t *testing.T) {
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "1", "zone": "x"}},
		Spec: v1.NodeSpec{Unschedulable: true, Taints: []v1.Taint{
			{Key: "dedicated", Value: "infra", Effect: v1.TaintEffectNoSchedule},
			{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule},
			{Key: v1.TaintNodeNotReady, Effect: v1.TaintEffectNoExecute},
		}},
	}
	s := specOf(n, map[string]string{"zone": "y", "gone": "z"})
	if !s.Cordoned || len(s.Taints) != 1 || s.Taints[0].Key != "dedicated" {
		t.Errorf("spec %+v", s)
	}
	if *s.Labels["a"] != "1" || *s.Labels["zone"] != "x" || s.Labels["gone"] != nil {
		t.Errorf("labels %v", s.Labels)
	}
	if _, ok := s.Labels["gone"]; !ok {
		t.Error("a --node-labels label removed in the API is not marked removed")
	}
}
