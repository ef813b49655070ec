package node

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func requesting(cpu, mem string) *v1.Pod {
	req := v1.ResourceList{}
	if cpu != "" {
		req[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[v1.ResourceMemory] = resource.MustParse(mem)
	}
	return &v1.Pod{Spec: v1.PodSpec{NodeName: "n1", Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: req}}}}}
}

func TestKubeletAdmit(t *testing.T) {
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"disk": "ssd"}},
		Spec: v1.NodeSpec{Taints: []v1.Taint{{Key: "gpu", Effect: v1.TaintEffectNoSchedule}}}}
	alloc := v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("1Gi"), v1.ResourcePods: resource.MustParse("3")}
	others := []*v1.Pod{requesting("1500m", "256Mi")}

	withInit := requesting("100m", "")
	withInit.Spec.InitContainers = []v1.Container{{Name: "init", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("600m")}}}}
	selector := requesting("", "")
	selector.Spec.NodeSelector = map[string]string{"disk": "hdd"}
	elsewhere := requesting("", "")
	elsewhere.Spec.NodeName = "n2"
	noExec := &v1.Node{ObjectMeta: node.ObjectMeta, Spec: v1.NodeSpec{Taints: []v1.Taint{{Key: "bad", Effect: v1.TaintEffectNoExecute}}}}

	for _, tc := range []struct {
		name   string
		pod    *v1.Pod
		node   *v1.Node
		others []*v1.Pod
		reason string
		msg    string
	}{
		{"fits", requesting("500m", "512Mi"), node, others, "", ""},
		{"cpu", requesting("600m", ""), node, others, "OutOfcpu", "Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000"},
		{"memory", requesting("", "900Mi"), node, others, "OutOfmemory", "Node didn't have enough resource: memory, requested: 943718400, used: 268435456, capacity: 1073741824"},
		{"an init container's request counts when larger", withInit, node, others, "OutOfcpu", "Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000"},
		{"pods", requesting("", ""), node, []*v1.Pod{{}, {}, {}}, "OutOfpods", "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"},
		{"node selector", selector, node, nil, "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"},
		{"node name", elsewhere, node, nil, "NodeName", "Predicate NodeName failed: node(s) didn't match the requested node name"},
		{"NoSchedule taints are the scheduler's", requesting("", ""), node, nil, "", ""},
		{"NoExecute taint", requesting("", ""), noExec, nil, "TaintToleration", "Predicate TaintToleration failed: node(s) had untolerated taint(s)"},
	} {
		ok, reason, msg := KubeletAdmit(tc.pod, tc.node, alloc, tc.others)
		if ok != (tc.reason == "") || reason != tc.reason || msg != tc.msg {
			t.Errorf("%s: %v %q %q, want %q %q", tc.name, ok, reason, msg, tc.reason, tc.msg)
		}
	}
}
