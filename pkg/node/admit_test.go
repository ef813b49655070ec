package node

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func admitNode() *v1.Node {
	n := Build(Info{Name: "node1", Labels: map[string]string{"disk": "ssd", "gpus": "2", "zone": "a"}}, HostStats{}, OperatorSpec{}, testNow)
	return &n
}

func affinity(terms ...v1.NodeSelectorTerm) *v1.Affinity {
	return &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func expr(key string, op v1.NodeSelectorOperator, values ...string) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func TestAdmit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		selector map[string]string
		affinity *v1.Affinity
		ok       bool
	}{
		{"nothing asked", nil, nil, true},
		{"selector matches", map[string]string{"disk": "ssd", "kubernetes.io/os": "linux"}, nil, true},
		{"selector on hostname", map[string]string{"kubernetes.io/hostname": "node1"}, nil, true},
		{"selector value differs", map[string]string{"disk": "hdd"}, nil, false},
		{"selector label missing", map[string]string{"disk": "ssd", "rack": "1"}, nil, false},
		{"In", nil, affinity(expr("zone", v1.NodeSelectorOpIn, "b", "a")), true},
		{"In, no value matches", nil, affinity(expr("zone", v1.NodeSelectorOpIn, "b", "c")), false},
		{"NotIn", nil, affinity(expr("zone", v1.NodeSelectorOpNotIn, "b")), true},
		{"NotIn, excluded", nil, affinity(expr("zone", v1.NodeSelectorOpNotIn, "a")), false},
		{"NotIn, label missing", nil, affinity(expr("rack", v1.NodeSelectorOpNotIn, "1")), true},
		{"Exists", nil, affinity(expr("disk", v1.NodeSelectorOpExists)), true},
		{"Exists, missing", nil, affinity(expr("rack", v1.NodeSelectorOpExists)), false},
		{"DoesNotExist", nil, affinity(expr("rack", v1.NodeSelectorOpDoesNotExist)), true},
		{"DoesNotExist, present", nil, affinity(expr("disk", v1.NodeSelectorOpDoesNotExist)), false},
		{"Gt", nil, affinity(expr("gpus", v1.NodeSelectorOpGt, "1")), true},
		{"Gt, not greater", nil, affinity(expr("gpus", v1.NodeSelectorOpGt, "2")), false},
		{"Lt", nil, affinity(expr("gpus", v1.NodeSelectorOpLt, "3")), true},
		{"Lt, not less", nil, affinity(expr("gpus", v1.NodeSelectorOpLt, "2")), false},
		{"Gt on a non-number", nil, affinity(expr("zone", v1.NodeSelectorOpGt, "1")), false},
		{"Gt with a bad value", nil, affinity(expr("gpus", v1.NodeSelectorOpGt, "x")), false},
		{"terms are ORed", nil, affinity(expr("rack", v1.NodeSelectorOpExists), expr("disk", v1.NodeSelectorOpIn, "ssd")), true},
		{"expressions are ANDed", nil, affinity(v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{
			{Key: "disk", Operator: v1.NodeSelectorOpIn, Values: []string{"ssd"}},
			{Key: "rack", Operator: v1.NodeSelectorOpExists},
		}}), false},
		{"a bad term does not spoil a good one", nil, affinity(expr("gpus", "Bogus", "1"), expr("zone", v1.NodeSelectorOpIn, "a")), true},
		{"matchFields metadata.name", nil, affinity(v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"node1"}}}}), true},
		{"matchFields another node", nil, affinity(v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"node2"}}}}), false},
		{"no terms match nothing", nil, affinity(), false},
		{"selector and affinity both needed", map[string]string{"disk": "hdd"}, affinity(expr("zone", v1.NodeSelectorOpIn, "a")), false},
		{"preferred affinity is not required", nil, &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{{Weight: 1, Preference: expr("rack", v1.NodeSelectorOpExists)}},
		}}, true},
	} {
		pod := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec:       v1.PodSpec{NodeSelector: tc.selector, Affinity: tc.affinity},
		}
		ok, reason, msg := Admit(pod, admitNode())
		if ok != tc.ok {
			t.Errorf("%s: admitted %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if ok && (reason != "" || msg != "") {
			t.Errorf("%s: admitted with %q %q", tc.name, reason, msg)
		}
		if !ok && (reason != "NodeAffinity" || msg != "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector") {
			t.Errorf("%s: refused with %q %q", tc.name, reason, msg)
		}
	}
}

func TestSchedulable(t *testing.T) {
	pod := &v1.Pod{}
	open := admitNode()
	if ok, _, _ := Schedulable(pod, open); !ok {
		t.Error("uncordoned node refuses a pod")
	}
	n := Build(Info{Name: "node1"}, HostStats{}, OperatorSpec{Cordoned: true}, testNow)
	ok, reason, msg := Schedulable(pod, &n)
	if ok || reason != "Unschedulable" || msg != "0/1 nodes are available: 1 node(s) were unschedulable." {
		t.Errorf("cordoned node: %v %q %q", ok, reason, msg)
	}
	for _, tol := range []v1.Toleration{
		{Key: "node.kubernetes.io/unschedulable", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
		{Operator: v1.TolerationOpExists}, // tolerates everything
	} {
		pod := &v1.Pod{Spec: v1.PodSpec{Tolerations: []v1.Toleration{tol}}}
		if ok, _, _ := Schedulable(pod, &n); !ok {
			t.Errorf("toleration %+v: refused", tol)
		}
	}
	other := &v1.Pod{Spec: v1.PodSpec{Tolerations: []v1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists}}}}
	if ok, _, _ := Schedulable(other, &n); ok {
		t.Error("an unrelated toleration lets the pod in")
	}
}

// TestSchedulableTaintsAndLabels: the operator's NoSchedule and NoExecute
// taints keep out pods that do not tolerate them (PreferNoSchedule does
// not, on the only node there is), in the scheduler's words; a nodeSelector
// matches the labels the operator set, and a removed flag label no more.
func TestSchedulableTaintsAndLabels(t *testing.T) {
	yes, ssd := "true", "ssd"
	spec := OperatorSpec{
		Labels: map[string]*string{"gpu": &yes, "disk": nil, "tier": &ssd},
		Taints: []v1.Taint{
			{Key: "dedicated", Value: "ml", Effect: v1.TaintEffectNoSchedule},
			{Key: "soft", Effect: v1.TaintEffectPreferNoSchedule},
		},
	}
	n := Build(Info{Name: "node1", Labels: map[string]string{"disk": "hdd", "zone": "a"}}, HostStats{}, spec, testNow)
	if n.Labels["gpu"] != "true" || n.Labels["zone"] != "a" || n.Labels["tier"] != "ssd" {
		t.Fatalf("labels %v", n.Labels)
	}
	if _, ok := n.Labels["disk"]; ok {
		t.Fatalf("a flag label removed by the operator is still there: %v", n.Labels)
	}
	if len(n.Spec.Taints) != 2 {
		t.Fatalf("taints %v", n.Spec.Taints)
	}
	tolerates := []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "ml", Effect: v1.TaintEffectNoSchedule}}
	for _, tc := range []struct {
		name string
		pod  v1.PodSpec
		want string
	}{
		{"untolerated NoSchedule taint", v1.PodSpec{}, "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}."},
		{"tolerated, selector matches an operator's label", v1.PodSpec{Tolerations: tolerates, NodeSelector: map[string]string{"gpu": "true"}}, ""},
		{"tolerated, selector on a removed flag label", v1.PodSpec{Tolerations: tolerates, NodeSelector: map[string]string{"disk": "hdd"}},
			"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		{"toleration with the wrong value", v1.PodSpec{Tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "web"}}},
			"0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}."},
	} {
		ok, reason, msg := Schedulable(&v1.Pod{Spec: tc.pod}, &n)
		if tc.want == "" {
			if !ok {
				t.Errorf("%s: refused: %q", tc.name, msg)
			}
			continue
		}
		if ok || reason != "Unschedulable" || msg != tc.want {
			t.Errorf("%s: %v %q %q, want %q", tc.name, ok, reason, msg, tc.want)
		}
	}
	noExec := Build(Info{Name: "node1"}, HostStats{}, OperatorSpec{Taints: []v1.Taint{{Key: "maint", Effect: v1.TaintEffectNoExecute}}}, testNow)
	if ok, _, msg := Schedulable(&v1.Pod{}, &noExec); ok || msg != "0/1 nodes are available: 1 node(s) had untolerated taint {maint: }." {
		t.Errorf("NoExecute taint: %v %q", ok, msg)
	}
}
