package eviction

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/node"
)

var t0 = time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)

func mustThresholds(t *testing.T, f Flags) []Threshold {
	t.Helper()
	ts, err := ParseThresholds(f)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestAssessHardSoftAndTransition(t *testing.T) {
	cfg := Config{
		Thresholds: mustThresholds(t, Flags{Hard: "memory.available<100Mi", Soft: "nodefs.available<20%",
			SoftGracePeriod: "nodefs.available=1m"}),
		PressureTransitionPeriod: 5 * time.Minute,
	}
	fine := Observations{SignalMemoryAvailable: {Available: 1 << 30, Capacity: 2 << 30},
		SignalNodeFsAvailable: {Available: 500, Capacity: 1000}}
	a := Assess(cfg, fine, State{}, t0)
	if a.Pressure != (node.Pressure{}) || a.Acting != nil {
		t.Fatalf("no pressure expected: %+v", a)
	}
	// Soft nodefs met: DiskPressure at once, no action before the grace period.
	low := Observations{SignalMemoryAvailable: fine[SignalMemoryAvailable], SignalNodeFsAvailable: {Available: 100, Capacity: 1000}}
	a = Assess(cfg, low, a.State, t0.Add(10*time.Second))
	if !a.Pressure.Disk || a.Pressure.Memory || a.Acting != nil {
		t.Fatalf("soft threshold within grace: %+v", a)
	}
	a = Assess(cfg, low, a.State, t0.Add(70*time.Second))
	if a.Acting == nil || a.Acting.Signal != SignalNodeFsAvailable || a.Acting.Hard {
		t.Fatalf("grace over: acting %v", a.Acting)
	}
	// Memory met too: memory comes first.
	both := Observations{SignalMemoryAvailable: {Available: 1, Capacity: 2 << 30}, SignalNodeFsAvailable: low[SignalNodeFsAvailable]}
	a = Assess(cfg, both, a.State, t0.Add(80*time.Second))
	if a.Acting == nil || a.Acting.Signal != SignalMemoryAvailable || !a.Pressure.Memory {
		t.Fatalf("memory first: %+v", a.Acting)
	}
	// Relieved: the conditions stay for the transition period.
	a = Assess(cfg, fine, a.State, t0.Add(90*time.Second))
	if !a.Pressure.Disk || !a.Pressure.Memory || a.Acting != nil {
		t.Fatalf("within the transition period: %+v", a)
	}
	a = Assess(cfg, fine, a.State, t0.Add(80*time.Second+5*time.Minute))
	if a.Pressure != (node.Pressure{}) {
		t.Fatalf("after the transition period: %+v", a.Pressure)
	}
	// The grace period starts again after the threshold was not met.
	a = Assess(cfg, low, a.State, t0.Add(10*time.Minute))
	if a.Acting != nil {
		t.Fatalf("grace period must start again: %v", a.Acting)
	}
}

func TestAssessMinimumReclaim(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<0,nodefs.available<100", MinimumReclaim: "nodefs.available=50"})}
	obs := func(avail int64) Observations {
		return Observations{SignalNodeFsAvailable: {Available: avail, Capacity: 1000}}
	}
	a := Assess(cfg, obs(120), State{}, t0)
	if a.Acting != nil {
		t.Fatal("120 available is above 100")
	}
	a = Assess(cfg, obs(90), a.State, t0)
	if a.Acting == nil {
		t.Fatal("90 is below 100")
	}
	a = Assess(cfg, obs(120), a.State, t0)
	if a.Acting == nil {
		t.Fatal("met before: stays met until 150 are available")
	}
	a = Assess(cfg, obs(160), a.State, t0)
	if a.Acting != nil {
		t.Fatal("160 available: reclaimed enough")
	}
}

func testPod(name string, prio int32, memReq string, owned bool) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)}}
	p.Spec.Priority = &prio
	c := v1.Container{Name: "app"}
	if memReq != "" {
		c.Resources.Requests = v1.ResourceList{v1.ResourceMemory: resource.MustParse(memReq)}
	}
	p.Spec.Containers = []v1.Container{c}
	if owned {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs", Controller: ptr(true)}}
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func memUsage(bytes int64) Usage {
	return Usage{Found: true, Memory: bytes, Containers: map[string]ContainerUsage{"app": {Memory: bytes}}}
}

func TestChooseMemoryRanking(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<100Mi"})}
	th := cfg.Thresholds[0]
	obs := Observations{SignalMemoryAvailable: {Available: 50 << 20, Capacity: 1 << 30}}
	cands := []Candidate{
		{Pod: testPod("static-hog", 0, "", false), Static: true, Usage: memUsage(900 << 20)},
		{Pod: testPod("within-request", 0, "500Mi", true), Usage: memUsage(400 << 20)},
		{Pod: testPod("important", 1000, "", true), Usage: memUsage(300 << 20)},
		{Pod: testPod("small", 0, "", true), Usage: memUsage(10 << 20)},
		{Pod: testPod("big", 0, "", true), Usage: memUsage(200 << 20)},
	}
	e := Choose(cfg, th, cfg.Thresholds, obs, cands, false)
	if e == nil || e.Pod.Name != "big" {
		t.Fatalf("want big (over its request, lowest priority, most above request), got %+v", e)
	}
	want := "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using 200Mi, request is 0, has larger consumption of memory. "
	if e.Message != want {
		t.Errorf("message\n%q, want\n%q", e.Message, want)
	}
	if e.GracePeriod != 1 || e.Annotations[OffendingContainersKey] != "app" || e.Annotations[StarvedResourceKey] != "memory" {
		t.Errorf("grace %d annotations %v", e.GracePeriod, e.Annotations)
	}
	// Static pods are critical unless the operator says otherwise.
	cfg.EvictStaticPods = true
	if e := Choose(cfg, th, cfg.Thresholds, obs, cands, false); e == nil || e.Pod.Name != "static-hog" {
		t.Fatalf("with --evict-static-pods the static hog goes first, got %+v", e)
	}
	// Only critical pods: nothing.
	cfg.EvictStaticPods = false
	if e := Choose(cfg, th, cfg.Thresholds, obs, cands[:1], false); e != nil {
		t.Fatalf("a static pod was chosen: %+v", e)
	}
	crit := testPod("critical", systemCriticalPriority, "", true)
	if e := Choose(cfg, th, cfg.Thresholds, obs, []Candidate{{Pod: crit, Usage: memUsage(1)}}, false); e != nil {
		t.Fatalf("a system-critical pod was chosen")
	}
}

func TestChooseSoftGraceAndUnmeasured(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<0", Soft: "memory.available<1Gi", SoftGracePeriod: "memory.available=0s"}),
		MaxPodGracePeriod: 30}
	th := cfg.Thresholds[0]
	obs := Observations{SignalMemoryAvailable: {Available: 50 << 20, Capacity: 2 << 30}}
	short := testPod("short", 0, "", true)
	short.Spec.TerminationGracePeriodSeconds = ptr(int64(5))
	cands := []Candidate{{Pod: short, Usage: memUsage(100 << 20)}, {Pod: testPod("unknown", 0, "", true), Usage: Usage{}}}
	e := Choose(cfg, th, cfg.Thresholds, obs, cands, false)
	if e == nil || e.Pod.Name != "unknown" {
		t.Fatalf("a pod that could not be measured goes first, got %+v", e)
	}
	if e.GracePeriod != 30 {
		t.Errorf("soft eviction grace %d, want --eviction-max-pod-grace-period 30", e.GracePeriod)
	}
	e = Choose(cfg, th, cfg.Thresholds, obs, cands[:1], false)
	if e.GracePeriod != 5 {
		t.Errorf("soft eviction grace %d, want the pod's shorter 5", e.GracePeriod)
	}
}

func TestChooseDiskAndPIDs(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<0,nodefs.available<10%,pid.available<100"})}
	obs := Observations{SignalNodeFsAvailable: {Available: 5 << 20, Capacity: 100 << 20}, SignalPIDAvailable: {Available: 10, Capacity: 1000}}
	disk := func(name string, vol, logs int64, req string) Candidate {
		p := testPod(name, 0, "", true)
		if req != "" {
			p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceEphemeralStorage: resource.MustParse(req)}
		}
		return Candidate{Pod: p, Usage: Usage{Found: true, Volumes: vol, Logs: logs, Processes: vol / (1 << 20),
			Containers: map[string]ContainerUsage{"app": {Logs: logs}}}}
	}
	cands := []Candidate{disk("requested", 60<<20, 0, "100Mi"), disk("writer", 40<<20, 1<<20, ""), disk("quiet", 1<<20, 0, "")}
	nodefs := cfg.Thresholds[0]
	e := Choose(cfg, nodefs, cfg.Thresholds, obs, cands, true)
	if e == nil || e.Pod.Name != "writer" {
		t.Fatalf("want writer, got %+v", e)
	}
	want := "The node was low on resource: ephemeral-storage. Threshold quantity: 10Mi, available: 5Mi. Container app was using 1Mi, request is 0, has larger consumption of ephemeral-storage. "
	if e.Message != want {
		t.Errorf("message\n%q, want\n%q", e.Message, want)
	}
	pids := onSignal(cfg.Thresholds, SignalPIDAvailable)[0]
	if e := Choose(cfg, pids, cfg.Thresholds, obs, cands, true); e == nil || e.Pod.Name != "requested" {
		t.Fatalf("PIDs: most processes first (requests do not count), got %+v", e)
	}
}

func TestAdmitMessage(t *testing.T) {
	be := testPod("be", 0, "", true)
	burst := testPod("burst", 0, "10Mi", true)
	tolerant := testPod("tolerant", 0, "", true)
	tolerant.Spec.Tolerations = []v1.Toleration{{Key: v1.TaintNodeMemoryPressure, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}}
	mem := node.Pressure{Memory: true}
	for _, tc := range []struct {
		p      node.Pressure
		pod    *v1.Pod
		static bool
		want   string
	}{
		{node.Pressure{}, be, false, ""},
		{mem, be, false, "The node had condition: [MemoryPressure]. "},
		{mem, be, true, ""},
		{mem, burst, false, ""},
		{mem, tolerant, false, ""},
		{node.Pressure{Memory: true, Disk: true}, burst, false, "The node had condition: [MemoryPressure DiskPressure]. "},
		{node.Pressure{PID: true}, burst, false, "The node had condition: [PIDPressure]. "},
	} {
		if got := AdmitMessage(tc.p, tc.pod, tc.static); got != tc.want {
			t.Errorf("%+v %s static=%v: %q, want %q", tc.p, tc.pod.Name, tc.static, got, tc.want)
		}
	}
	if !strings.HasSuffix(nodeConditionMessageFmt, ". ") {
		t.Error("the kubelet's message ends with a space")
	}
}
