package node

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testInfo() Info {
	return Info{
		Name:           "node1",
		Labels:         map[string]string{"disk": "ssd", "kubernetes.io/hostname": "evil", "kubernetes.io/os": "windows"},
		MiniletVersion: "v0.3.0",
		RuntimeVersion: "containerd://1.7.35",
		InternalIP:     "192.168.1.10",
		PodCIDR:        "10.85.0.0/16",
		Created:        testNow.Add(-48 * time.Hour),
		System: SystemInfo{KernelVersion: "6.8.0-45-generic", OSImage: "Ubuntu 24.04.1 LTS",
			MachineID: "m1", SystemUUID: "u1", BootID: "b1"},
	}
}

// healthyHost has 4 CPUs, 16Gi of memory with 8Gi free, a 100Gi disk
// half full, and few tasks.
func healthyHost() HostStats {
	return HostStats{
		NumCPU: 4, MemoryTotal: 16 << 30, MemoryAvailable: 8 << 30,
		FsCapacity: 100 << 30, FsAvailable: 50 << 30,
		MaxPIDs: 4194304, Tasks: 900,
	}
}

func TestBuildMetadataAndInfo(t *testing.T) {
	n := Build(testInfo(), healthyHost(), OperatorSpec{}, testNow)
	if n.Kind != "Node" || n.APIVersion != "v1" || n.Name != "node1" {
		t.Errorf("type/name: %s/%s %s", n.APIVersion, n.Kind, n.Name)
	}
	want := map[string]string{
		"kubernetes.io/hostname":  "node1",
		"kubernetes.io/os":        runtime.GOOS,
		"kubernetes.io/arch":      runtime.GOARCH,
		"beta.kubernetes.io/os":   runtime.GOOS,
		"beta.kubernetes.io/arch": runtime.GOARCH,
		"disk":                    "ssd",
	}
	if len(n.Labels) != len(want) {
		t.Errorf("labels %v, want %v", n.Labels, want)
	}
	for k, v := range want {
		if n.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, n.Labels[k], v)
		}
	}
	if !n.CreationTimestamp.Time.Equal(testNow.Add(-48 * time.Hour)) {
		t.Errorf("creationTimestamp %v", n.CreationTimestamp)
	}
	if n.Spec.Unschedulable || len(n.Spec.Taints) != 0 {
		t.Errorf("uncordoned node: unschedulable %v, taints %v", n.Spec.Unschedulable, n.Spec.Taints)
	}
	if n.Spec.PodCIDR != "10.85.0.0/16" || len(n.Spec.PodCIDRs) != 1 {
		t.Errorf("podCIDR %q %v", n.Spec.PodCIDR, n.Spec.PodCIDRs)
	}
	ni := n.Status.NodeInfo
	if ni.KubeletVersion != "v0.3.0" || ni.ContainerRuntimeVersion != "containerd://1.7.35" ||
		ni.KernelVersion != "6.8.0-45-generic" || ni.OSImage != "Ubuntu 24.04.1 LTS" ||
		ni.OperatingSystem != runtime.GOOS || ni.Architecture != runtime.GOARCH ||
		ni.MachineID != "m1" || ni.SystemUUID != "u1" || ni.BootID != "b1" {
		t.Errorf("nodeInfo %+v", ni)
	}
	addrs := n.Status.Addresses
	if len(addrs) != 2 || addrs[0] != (v1.NodeAddress{Type: v1.NodeInternalIP, Address: "192.168.1.10"}) ||
		addrs[1] != (v1.NodeAddress{Type: v1.NodeHostName, Address: "node1"}) {
		t.Errorf("addresses %v", addrs)
	}

	// The operator's labels are not changed by Build.
	info := testInfo()
	Build(info, healthyHost(), OperatorSpec{}, testNow)
	if info.Labels["kubernetes.io/hostname"] != "evil" || len(info.Labels) != 3 {
		t.Errorf("Build changed the operator's labels: %v", info.Labels)
	}

	// No pod CIDR, no IP, a hostname of its own.
	info.PodCIDR, info.InternalIP, info.Hostname = "", "", "host.example"
	n = Build(info, healthyHost(), OperatorSpec{}, testNow)
	if n.Spec.PodCIDR != "" || n.Spec.PodCIDRs != nil {
		t.Errorf("podCIDR without one: %q %v", n.Spec.PodCIDR, n.Spec.PodCIDRs)
	}
	if len(n.Status.Addresses) != 1 || n.Status.Addresses[0].Address != "host.example" {
		t.Errorf("addresses %v", n.Status.Addresses)
	}
}

func TestBuildResources(t *testing.T) {
	h := healthyHost()
	h.MemoryTotal = 16384004 * 1024 // as /proc/meminfo gives it, in kB
	h.FsCapacity = 1000 << 20
	n := Build(testInfo(), h, OperatorSpec{}, testNow)
	for _, tc := range []struct {
		list v1.ResourceList
		name v1.ResourceName
		want string
	}{
		{n.Status.Capacity, v1.ResourceCPU, "4"},
		{n.Status.Capacity, v1.ResourceMemory, "16384004Ki"},
		{n.Status.Capacity, v1.ResourcePods, "110"},
		{n.Status.Capacity, v1.ResourceEphemeralStorage, "1000Mi"},
		{n.Status.Allocatable, v1.ResourceCPU, "4"},
		{n.Status.Allocatable, v1.ResourceMemory, "16281604Ki"}, // less 100Mi
		{n.Status.Allocatable, v1.ResourcePods, "110"},
		{n.Status.Allocatable, v1.ResourceEphemeralStorage, "900Mi"}, // less 10%
	} {
		q, ok := tc.list[tc.name]
		if !ok || q.String() != tc.want {
			t.Errorf("%s: %q (present %v), want %q", tc.name, q.String(), ok, tc.want)
		}
	}

	// Unknown amounts are left out; pods is always there.
	n = Build(testInfo(), HostStats{}, OperatorSpec{}, testNow)
	if len(n.Status.Capacity) != 1 || len(n.Status.Allocatable) != 1 {
		t.Errorf("nothing known: capacity %v allocatable %v", n.Status.Capacity, n.Status.Allocatable)
	}
	// Less memory than the threshold: allocatable is 0, not negative.
	n = Build(testInfo(), HostStats{MemoryTotal: 50 << 20, MemoryAvailable: 10 << 20}, OperatorSpec{}, testNow)
	if q := n.Status.Allocatable[v1.ResourceMemory]; q.Cmp(resource.MustParse("0")) != 0 {
		t.Errorf("tiny memory: allocatable %s", q.String())
	}
}

func conditionMap(n v1.Node) map[v1.NodeConditionType]v1.NodeCondition {
	m := map[v1.NodeConditionType]v1.NodeCondition{}
	for _, c := range n.Status.Conditions {
		m[c.Type] = c
	}
	return m
}

func TestBuildConditions(t *testing.T) {
	type want struct {
		status  v1.ConditionStatus
		reason  string
		message string
	}
	ok := map[v1.NodeConditionType]want{
		v1.NodeReady:          {v1.ConditionTrue, "KubeletReady", "minilet is ready"},
		v1.NodeMemoryPressure: {v1.ConditionFalse, "KubeletHasSufficientMemory", "minilet has sufficient memory available"},
		v1.NodeDiskPressure:   {v1.ConditionFalse, "KubeletHasNoDiskPressure", "minilet has no disk pressure"},
		v1.NodePIDPressure:    {v1.ConditionFalse, "KubeletHasSufficientPID", "minilet has sufficient PID available"},
	}
	with := func(t v1.NodeConditionType, w want) map[v1.NodeConditionType]want {
		m := map[v1.NodeConditionType]want{}
		for k, v := range ok {
			m[k] = v
		}
		m[t] = w
		return m
	}
	for _, tc := range []struct {
		name   string
		host   func(*HostStats)
		want   map[v1.NodeConditionType]want
		taints []string
	}{
		{"healthy", func(*HostStats) {}, ok, nil},
		{"runtime down", func(h *HostStats) {
			h.RuntimeErr = errors.New("containerd at /run/containerd/containerd.sock: unavailable")
		},
			with(v1.NodeReady, want{v1.ConditionFalse, "KubeletNotReady", "container runtime is down: containerd at /run/containerd/containerd.sock: unavailable"}),
			[]string{"node.kubernetes.io/not-ready"}},
		// The thresholds are the eviction manager's (pkg/eviction): Build
		// reports what it says.
		{"memory low enough for eviction to say so", func(h *HostStats) { h.MemoryAvailable = 1; h.Pressure.Memory = true },
			with(v1.NodeMemoryPressure, want{v1.ConditionTrue, "KubeletHasInsufficientMemory", "minilet has insufficient memory available"}),
			[]string{"node.kubernetes.io/memory-pressure"}},
		{"memory low, eviction says nothing", func(h *HostStats) { h.MemoryAvailable = 1 }, ok, nil},
		{"disk pressure", func(h *HostStats) { h.Pressure.Disk = true },
			with(v1.NodeDiskPressure, want{v1.ConditionTrue, "KubeletHasDiskPressure", "minilet has disk pressure"}),
			[]string{"node.kubernetes.io/disk-pressure"}},
		{"pid pressure", func(h *HostStats) { h.Pressure.PID = true },
			with(v1.NodePIDPressure, want{v1.ConditionTrue, "KubeletHasInsufficientPID", "minilet has insufficient PID available"}),
			[]string{"node.kubernetes.io/pid-pressure"}},
		{"nothing known", func(h *HostStats) { *h = HostStats{} }, ok, nil},
	} {
		h := healthyHost()
		tc.host(&h)
		n := Build(testInfo(), h, OperatorSpec{}, testNow)
		if len(n.Status.Conditions) != 4 || n.Status.Conditions[3].Type != v1.NodeReady {
			t.Errorf("%s: conditions %v, want 4 with Ready last", tc.name, n.Status.Conditions)
		}
		got := conditionMap(n)
		for typ, w := range tc.want {
			c := got[typ]
			if c.Status != w.status || c.Reason != w.reason || c.Message != w.message {
				t.Errorf("%s: %s = %s %s %q, want %s %s %q", tc.name, typ, c.Status, c.Reason, c.Message, w.status, w.reason, w.message)
			}
			if !c.LastHeartbeatTime.Time.Equal(testNow) || !c.LastTransitionTime.Time.Equal(testNow) {
				t.Errorf("%s: %s times %v %v", tc.name, typ, c.LastHeartbeatTime, c.LastTransitionTime)
			}
		}
		var taints []string
		for _, tn := range n.Spec.Taints {
			if tn.Effect != v1.TaintEffectNoSchedule {
				t.Errorf("%s: taint %v", tc.name, tn)
			}
			taints = append(taints, tn.Key)
		}
		if len(taints) != len(tc.taints) || (len(taints) > 0 && taints[0] != tc.taints[0]) {
			t.Errorf("%s: taints %v, want %v", tc.name, taints, tc.taints)
		}
	}
}

func TestBuildCordoned(t *testing.T) {
	n := Build(testInfo(), healthyHost(), OperatorSpec{Cordoned: true}, testNow)
	if !n.Spec.Unschedulable {
		t.Error("cordoned node is schedulable")
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0] != (v1.Taint{Key: "node.kubernetes.io/unschedulable", Effect: v1.TaintEffectNoSchedule}) {
		t.Errorf("taints %v", n.Spec.Taints)
	}
	if c := conditionMap(n)[v1.NodeReady]; c.Status != v1.ConditionTrue {
		t.Errorf("a cordoned node is still Ready: %v", c)
	}
}

func TestConditionTracker(t *testing.T) {
	var tr ConditionTracker
	t0 := testNow
	h := healthyHost()
	n := Build(testInfo(), h, OperatorSpec{}, t0)
	tr.Track(&n)

	t1 := t0.Add(10 * time.Second)
	n = Build(testInfo(), h, OperatorSpec{}, t1)
	tr.Track(&n)
	ready := conditionMap(n)[v1.NodeReady]
	if !ready.LastTransitionTime.Time.Equal(t0) || !ready.LastHeartbeatTime.Time.Equal(t1) {
		t.Errorf("unchanged Ready: transition %v heartbeat %v, want %v %v", ready.LastTransitionTime, ready.LastHeartbeatTime, t0, t1)
	}

	t2 := t1.Add(10 * time.Second)
	h.RuntimeErr = errors.New("down")
	n = Build(testInfo(), h, OperatorSpec{}, t2)
	tr.Track(&n)
	c := conditionMap(n)
	if !c[v1.NodeReady].LastTransitionTime.Time.Equal(t2) {
		t.Errorf("Ready went False: transition %v, want %v", c[v1.NodeReady].LastTransitionTime, t2)
	}
	if !c[v1.NodeMemoryPressure].LastTransitionTime.Time.Equal(t0) {
		t.Errorf("MemoryPressure unchanged: transition %v, want %v", c[v1.NodeMemoryPressure].LastTransitionTime, t0)
	}

	t3 := t2.Add(10 * time.Second)
	h.RuntimeErr = nil
	n = Build(testInfo(), h, OperatorSpec{}, t3)
	tr.Track(&n)
	if got := conditionMap(n)[v1.NodeReady].LastTransitionTime; !got.Time.Equal(t3) {
		t.Errorf("Ready back to True: transition %v, want %v", got, t3)
	}
}

func TestValidateLabels(t *testing.T) {
	if err := ValidateLabels(nil); err != nil {
		t.Errorf("no labels: %v", err)
	}
	if err := ValidateLabels(map[string]string{"disk": "ssd", "node-role.kubernetes.io/edge": "", "example.com/zone": "a-1"}); err != nil {
		t.Errorf("good labels: %v", err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"kubernetes.io/hostname": "x"}, "kubernetes.io/hostname: minilet sets this label itself"},
		{map[string]string{"kubernetes.io/arch": "arm"}, "kubernetes.io/arch: minilet sets this label itself"},
		{map[string]string{"bad key": "x"}, "bad key: invalid key"},
		{map[string]string{"k": "bad value!"}, "k=bad value!: invalid value"},
	} {
		err := ValidateLabels(tc.labels)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.labels, err, tc.want)
		}
	}
}
