package pod

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/runtime"
)

func cpuMem(cpu, mem string) v1.ResourceRequirements {
	r := v1.ResourceRequirements{Requests: v1.ResourceList{}, Limits: v1.ResourceList{}}
	if cpu != "" {
		r.Requests[v1.ResourceCPU] = resource.MustParse(cpu)
		r.Limits[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		r.Requests[v1.ResourceMemory] = resource.MustParse(mem)
		r.Limits[v1.ResourceMemory] = resource.MustParse(mem)
	}
	return r
}

// sized is c as made with resources r (its label).
func sized(c runtime.Container, r v1.ResourceRequirements) runtime.Container {
	c.Labels[labelResources] = encodeResources(r)
	return c
}

// TestPlanResize: a running container whose cgroup has other cpu and
// memory than the pod's record allocates is resized in place, or killed
// to start again when its resizePolicy says RestartContainer for a
// resource that changed; a restarted one starts whatever its back-off;
// a failed update waits for its retry.
func TestPlanResize(t *testing.T) {
	running := func() *runtime.Container { return sandboxC(runtime.StateRunning, tok) }
	changedAt := planNow.Add(-10 * time.Second)
	pod := func(policy v1.ResourceResizeRestartPolicy) *v1.Pod {
		p := newPod(v1.RestartPolicyAlways, nil, "app")
		p.Spec.Containers[0].Resources = cpuMem("200m", "128Mi")
		p.Spec.Containers[0].ResizePolicy = []v1.ContainerResizePolicy{
			{ResourceName: v1.ResourceCPU, RestartPolicy: v1.NotRequired},
			{ResourceName: v1.ResourceMemory, RestartPolicy: policy}}
		return p
	}
	sidecar := sidecarPod(false)
	sidecar.Spec.InitContainers[0].Resources = cpuMem("200m", "")
	cases := []struct {
		name string
		in   planInput
		want string
	}{
		{"cpu changed: the cgroup is updated",
			planInput{pod: pod(v1.RestartContainer), obs: obsOf(running(), sized(ctr("app", 0, "running", tok), cpuMem("100m", "128Mi")))},
			"resize p-app-0"},
		{"memory changed, its policy RestartContainer: killed to start again",
			planInput{pod: pod(v1.RestartContainer), obs: obsOf(running(), sized(ctr("app", 0, "running", tok), cpuMem("200m", "64Mi")))},
			"kill-to-restart p-app-0 grace=30s (ResizeRestart)"},
		{"memory changed, its policy NotRequired: updated",
			planInput{pod: pod(v1.NotRequired), obs: obsOf(running(), sized(ctr("app", 0, "running", tok), cpuMem("200m", "64Mi")))},
			"resize p-app-0"},
		{"killed for the resize: started again past its back-off gate",
			planInput{pod: pod(v1.RestartContainer), obs: obsOf(running(), sized(ctr("app", 0, "exited:137", tok), cpuMem("200m", "64Mi"))),
				gates: map[string]gate{"app": {forID: "p-app-0", due: planNow.Add(time.Minute)}}},
			"start app#1 (ResizeRestart)"},
		{"as allocated: nothing",
			planInput{pod: pod(v1.RestartContainer), obs: obsOf(running(), sized(ctr("app", 0, "running", tok), cpuMem("200m", "128Mi")))},
			""},
		{"a failed update waits for its retry",
			planInput{pod: pod(v1.RestartContainer), obs: obsOf(running(), sized(ctr("app", 0, "running", tok), cpuMem("100m", "128Mi"))),
				resizeFailures: map[string]resizeFailure{"p-app-0": {message: "busy", due: planNow.Add(5 * time.Second)}}},
			" wake=5s"},
		{"a running sidecar is resized; the next init container starts beside",
			planInput{pod: sidecar, obs: obsOf(running(), sized(ctr("side", 0, "running", tok), cpuMem("100m", ""))),
				probes: map[string]probeInfo{"p-side-0": {started: true}}},
			"resize p-side-0 | start init#0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.now, c.in.complete, c.in.specChangedAt = planNow, true, changedAt
			if got := render(plan(c.in)); got != c.want {
				t.Errorf("plan:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestPlanPodsResize: an API pod that asks for other cpu and memory is
// kept and resized; the resize is planned again while it waits; a file's
// pod with other resources is replaced.
func TestPlanPodsResize(t *testing.T) {
	api := func(hash, cpu string) manifest.Pod {
		d := desiredPod("web", hash)
		d.Pod.UID = "api-uid"
		d.Pod.Annotations = map[string]string{manifest.ConfigSourceAnnotation: manifest.ConfigSourceAPI}
		d.Pod.Spec.Containers = []v1.Container{{Name: "app", Image: "busybox:1", Resources: cpuMem(cpu, "")}}
		return d
	}
	running := api("h1", "100m")
	for _, tc := range []struct {
		name    string
		d       manifest.Pod
		pending bool
		want    string
	}{
		{"cpu resized", api("h2", "200m"), false, "update-meta default/web, resize default/web"},
		{"waiting resize, nothing else changed", api("h1", "200m"), true, "resize default/web"},
		{"resize undone while it waited", api("h1", "100m"), true, "resize default/web"},
		{"nothing", api("h1", "100m"), false, ""},
	} {
		a := activePod{hash: "h1", file: running.File, pod: running.Pod, resizePending: tc.pending}
		in := podsInput{desired: []manifest.Pod{tc.d}, active: map[string]activePod{"default/web": a}}
		if got := renderChanges(planPods(in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	file := desiredPod("web", "h1")
	file.Pod.Spec.Containers = []v1.Container{{Name: "app", Image: "busybox:1", Resources: cpuMem("100m", "")}}
	edited := desiredPod("web", "h2")
	edited.Pod.Spec.Containers = []v1.Container{{Name: "app", Image: "busybox:1", Resources: cpuMem("200m", "")}}
	in := podsInput{desired: []manifest.Pod{edited}, active: map[string]activePod{"default/web": {hash: "h1", file: file.File, pod: file.Pod}}}
	if got := renderChanges(planPods(in)); got != "stop default/web (changed)" {
		t.Errorf("a file's pod with other resources: %q", got)
	}
}

// TestResizeFits: the kubelet's words for a resize that can never fit
// (Infeasible) and one that does not fit beside the other pods now
// (Deferred).
func TestResizeFits(t *testing.T) {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	alloc := v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("1Gi"), v1.ResourcePods: resource.MustParse("110")}
	withCPU := func(cpu string) *v1.Pod {
		p := newPod(v1.RestartPolicyAlways, nil, "app")
		p.Spec.Containers[0].Resources = cpuMem(cpu, "")
		return p
	}
	other := withCPU("1500m")
	if p := resizeFits(withCPU("3"), n, alloc, nil); p == nil || p.reason != v1.PodReasonInfeasible ||
		p.message != "Node didn't have enough capacity: cpu, requested: 3000, capacity: 2000" {
		t.Errorf("more than the node: %+v", p)
	}
	if p := resizeFits(withCPU("1"), n, alloc, []*v1.Pod{other}); p == nil || p.reason != v1.PodReasonDeferred ||
		p.message != "Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000" {
		t.Errorf("more than is free: %+v", p)
	}
	if p := resizeFits(withCPU("500m"), n, alloc, []*v1.Pod{other}); p != nil {
		t.Errorf("fits: %+v", p)
	}
}

// TestResizeInPlace: a resize the manager allocated is saved in the
// record, the running container's cgroup gets the new cpu (same
// container, no restart), its status shows it, and a ResizeCompleted
// event follows; a failed update shows as PodResizeInProgress with the
// error until it succeeds.
func TestResizeInPlace(t *testing.T) {
	pod := newPod(v1.RestartPolicyAlways, nil, "app")
	pod.Annotations = map[string]string{manifest.ConfigSourceAnnotation: manifest.ConfigSourceAPI}
	pod.Spec.Containers[0].Resources = cpuMem("100m", "64Mi")
	h := newHarness(t, pod)
	h.sync()
	id := h.id("app", 0)
	if r := h.rt.ResourcesOf(id); r.CPUQuota != 10000 {
		t.Fatalf("made with %+v", r)
	}
	h.rt.FailUpdate = map[string]error{id: errors.New("device or resource busy")}
	want := pod.DeepCopy()
	want.Spec.Containers[0].Resources = cpuMem("300m", "64Mi")
	h.now = h.now.Add(time.Minute)
	h.w.setAllocation(want)
	h.sync()
	st := h.status()
	if c := findCondition(st, v1.PodResizeInProgress); c == nil || c.Reason != "Error" || !strings.Contains(c.Message, "device or resource busy") {
		t.Fatalf("after a failed update: %+v", st.Conditions)
	}
	if rec := h.w.record(); rec.SpecChangedAt == nil || !sameResizable(rec.Pod.Spec.Containers[0].Resources, cpuMem("300m", "64Mi")) {
		t.Fatalf("record %+v", rec.Pod.Spec.Containers[0].Resources)
	}
	h.rt.FailUpdate = nil
	h.now = h.now.Add(resizeRetryDelay)
	h.sync()
	if r := h.rt.ResourcesOf(id); r.CPUQuota != 30000 || r.CPUShares != 307 || r.MemoryLimitBytes != 64<<20 {
		t.Fatalf("after the update: %+v", r)
	}
	if h.state(id) != runtime.StateRunning || h.state(h.id("app", 1)) != "absent" {
		t.Fatal("the container was restarted")
	}
	st = h.status()
	if findCondition(st, v1.PodResizeInProgress) != nil {
		t.Errorf("still in progress: %+v", st.Conditions)
	}
	if got := st.ContainerStatuses[0].Resources; got == nil || got.Limits.Cpu().MilliValue() != 300 || got.Limits.Memory().Value() != 64<<20 {
		t.Errorf("status resources %+v", got)
	}
	if !h.hasEventText("ResizeCompleted", `"name":"app"`) {
		t.Errorf("events %+v", h.w.events.list())
	}
	if c, _ := h.rt.ContainerStatus(context.Background(), id); c.Labels[labelResources] != encodeResources(cpuMem("300m", "64Mi")) {
		t.Errorf("label %q", c.Labels[labelResources])
	}
}

func findCondition(st v1.PodStatus, t v1.PodConditionType) *v1.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}
