package printers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func testNode() v1.Node {
	return v1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: "node1", CreationTimestamp: ago(50 * time.Hour),
			Labels: map[string]string{"kubernetes.io/hostname": "node1", "kubernetes.io/os": "linux"},
		},
		Status: v1.NodeStatus{
			Conditions: []v1.NodeCondition{
				{Type: v1.NodeMemoryPressure, Status: v1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "minilet has sufficient memory available",
					LastHeartbeatTime: ago(10 * time.Second), LastTransitionTime: ago(50 * time.Hour)},
				{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady", Message: "minilet is ready",
					LastHeartbeatTime: ago(10 * time.Second), LastTransitionTime: ago(50 * time.Hour)},
			},
			Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "192.168.1.10"}, {Type: v1.NodeHostName, Address: "node1"}},
			Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("16Gi"),
				v1.ResourcePods: resource.MustParse("110")},
			Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("16284Mi"),
				v1.ResourcePods: resource.MustParse("110")},
			NodeInfo: v1.NodeSystemInfo{KubeletVersion: "v0.3.0", OSImage: "Ubuntu 24.04.1 LTS", KernelVersion: "6.8.0-45-generic",
				ContainerRuntimeVersion: "containerd://1.7.35", OperatingSystem: "linux", Architecture: "amd64", MachineID: "m1"},
		},
	}
}

func printNodes(t *testing.T, nodes []v1.Node, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := PrintNodes(&b, nodes, opts, testNow); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNodeTable(t *testing.T) {
	n := testNode()
	cordoned := testNode()
	cordoned.Name = "node2"
	cordoned.Spec.Unschedulable = true
	cordoned.Labels = map[string]string{"node-role.kubernetes.io/edge": "", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "db"}
	cordoned.Status.Conditions[1].Status = v1.ConditionFalse
	cordoned.Status.Addresses = nil
	cordoned.Status.NodeInfo = v1.NodeSystemInfo{}
	noReady := testNode()
	noReady.Name = "node3"
	noReady.Status.Conditions = nil
	nodes := []v1.Node{n, cordoned, noReady}

	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"plain", Options{}, `
NAME    STATUS                          ROLES                     AGE   VERSION
node1   Ready                           <none>                    2d2h  v0.3.0
node2   NotReady,SchedulingDisabled     control-plane,db,edge     2d2h  
node3   Unknown                         <none>                    2d2h  v0.3.0
`},
		{"wide", Options{Format: FormatWide}, `
NAME    STATUS                          ROLES                     AGE   VERSION   INTERNAL-IP    EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION     CONTAINER-RUNTIME
node1   Ready                           <none>                    2d2h  v0.3.0    192.168.1.10   <none>        Ubuntu 24.04.1 LTS   6.8.0-45-generic   containerd://1.7.35
node2   NotReady,SchedulingDisabled     control-plane,db,edge     2d2h            <none>         <none>        <unknown>            <unknown>          <unknown>
node3   Unknown                         <none>                    2d2h  v0.3.0    192.168.1.10   <none>        Ubuntu 24.04.1 LTS   6.8.0-45-generic   containerd://1.7.35
`},
		{"labels, no headers", Options{ShowLabels: true, NoHeaders: true}, `
node1   Ready                           <none>                    2d2h  v0.3.0    kubernetes.io/hostname=node1,kubernetes.io/os=linux
node2   NotReady,SchedulingDisabled     control-plane,db,edge     2d2h            kubernetes.io/role=db,node-role.kubernetes.io/control-plane=,node-role.kubernetes.io/edge=
node3   Unknown                         <none>                    2d2h  v0.3.0    kubernetes.io/hostname=node1,kubernetes.io/os=linux
`},
		{"name", Options{Format: FormatName}, "\nnode/node1\nnode/node2\nnode/node3\n"},
	} {
		got := printNodes(t, nodes, tc.opts)
		if rows(got) != rows(strings.TrimPrefix(tc.want, "\n")) {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// rows normalises column spacing: the fields of each line.
func rows(s string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	return strings.Join(out, "\n")
}

func TestNodeTableAlignment(t *testing.T) {
	got := printNodes(t, []v1.Node{testNode()}, Options{})
	want := "NAME    STATUS   ROLES    AGE    VERSION\nnode1   Ready    <none>   2d2h   v0.3.0\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestNodeStructuredOutput(t *testing.T) {
	one := printNodes(t, []v1.Node{testNode()}, Options{Format: FormatJSON, Single: true})
	var n v1.Node
	if err := json.Unmarshal([]byte(one), &n); err != nil || n.Kind != "Node" || n.APIVersion != "v1" || n.Name != "node1" {
		t.Fatalf("single node json: %v\n%s", err, one)
	}
	all := printNodes(t, []v1.Node{testNode()}, Options{Format: FormatYAML})
	var list struct {
		Kind  string
		Items []v1.Node
	}
	if err := yaml.Unmarshal([]byte(all), &list); err != nil || list.Kind != "List" || len(list.Items) != 1 || list.Items[0].Kind != "Node" {
		t.Fatalf("node list yaml: %v\n%s", err, all)
	}
}

func TestDescribeNode(t *testing.T) {
	n := testNode()
	n.Spec.Unschedulable = true
	n.Spec.Taints = []v1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: v1.TaintEffectNoSchedule}, {Key: "dedicated", Value: "db", Effect: v1.TaintEffectNoExecute}}
	n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.85.0.0/16", []string{"10.85.0.0/16"}
	web := makePod(v1.PodRunning, nil, running(true))
	web.Name, web.CreationTimestamp = "web", ago(time.Hour)
	web.Spec.Containers = []v1.Container{{Name: "app", Resources: v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   v1.ResourceList{v1.ResourceMemory: resource.MustParse("2Gi")},
	}}}
	done := makePod(v1.PodSucceeded, nil)
	done.Name = "job"
	var b bytes.Buffer
	if err := DescribeNode(&b, &n, []v1.Pod{web, done}, nil, testNow); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"Name:               node1\n",
		"Roles:              <none>\n",
		"Labels:             kubernetes.io/hostname=node1\n                    kubernetes.io/os=linux\n",
		"Taints:             node.kubernetes.io/unschedulable:NoSchedule\n                    dedicated=db:NoExecute\n",
		"Unschedulable:      true\n",
		"  Ready            True    " + ago(10*time.Second).Format(time.RFC1123Z),
		"KubeletReady                 minilet is ready\n",
		"Addresses:\n  InternalIP:  192.168.1.10\n  Hostname:    node1\n",
		"Capacity:\n  cpu:     4\n  memory:  16Gi\n  pods:    110\n",
		"  Container Runtime Version:  containerd://1.7.35\n",
		"PodCIDRs:                     10.85.0.0/16\n",
		"Non-terminated Pods:          (1 in total)\n",
		"  default                     web     500m (12%)    0 (0%)      1Gi (6%)         2Gi (12%)      60m\n",
		"  cpu                500m (12%)  0 (0%)\n",
		"  memory             1Gi (6%)    2Gi (12%)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("describe lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "job") {
		t.Errorf("a terminated pod is listed:\n%s", got)
	}
}
