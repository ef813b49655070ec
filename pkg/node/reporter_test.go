package node

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

type fakeRuntime struct {
	mu      sync.Mutex
	pingErr error
	version string
}

func (f *fakeRuntime) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pingErr
}

func (f *fakeRuntime) Version(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pingErr != nil {
		return "", f.pingErr
	}
	return f.version, nil
}

func (f *fakeRuntime) set(err error, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pingErr, f.version = err, version
}

func TestReporter(t *testing.T) {
	store, err := OpenSpecStore(filepath.Join(t.TempDir(), "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	rt := &fakeRuntime{version: "containerd v1.7.35"}
	info := testInfo()
	info.Created = store.Created()
	r := NewReporter(info, t.TempDir(), store, rt)
	now := testNow
	r.now = func() time.Time { return now }
	r.readStats = func(string) (HostStats, error) { return healthyHost(), nil }
	ctx := context.Background()

	n, err := r.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !n.CreationTimestamp.Time.Equal(store.Created()) {
		t.Errorf("created %v, want the store's %v", n.CreationTimestamp, store.Created())
	}
	if n.Status.NodeInfo.ContainerRuntimeVersion != "containerd://1.7.35" {
		t.Errorf("runtime version %q", n.Status.NodeInfo.ContainerRuntimeVersion)
	}
	if n.Status.NodeInfo.KernelVersion != "6.8.0-45-generic" {
		t.Errorf("given system info replaced: %+v", n.Status.NodeInfo)
	}

	// The runtime goes down: NotReady, the version last known stays.
	rt.set(errors.New("containerd is gone"), "")
	now = now.Add(time.Minute)
	n, err = r.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ready := conditionMap(n)[v1.NodeReady]
	if ready.Status != v1.ConditionFalse || ready.Message != "container runtime is down: containerd is gone" || !ready.LastTransitionTime.Time.Equal(now) {
		t.Errorf("runtime down: %+v", ready)
	}
	if mp := conditionMap(n)[v1.NodeMemoryPressure]; !mp.LastTransitionTime.Time.Equal(testNow) {
		t.Errorf("MemoryPressure transition %v, want %v", mp.LastTransitionTime, testNow)
	}
	if n.Status.NodeInfo.ContainerRuntimeVersion != "containerd://1.7.35" {
		t.Errorf("runtime version while down %q", n.Status.NodeInfo.ContainerRuntimeVersion)
	}

	// Upgraded, and cordoned.
	rt.set(nil, "containerd 2.0.0")
	if err := store.Set(true); err != nil {
		t.Fatal(err)
	}
	n, err = r.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status.NodeInfo.ContainerRuntimeVersion != "containerd://2.0.0" || !n.Spec.Unschedulable {
		t.Errorf("after upgrade and cordon: %q unschedulable %v", n.Status.NodeInfo.ContainerRuntimeVersion, n.Spec.Unschedulable)
	}

	an := r.AdmissionNode()
	if an.Name != "node1" || an.Labels["disk"] != "ssd" || !an.Spec.Unschedulable {
		t.Errorf("admission node: %s %v unschedulable %v", an.Name, an.Labels, an.Spec.Unschedulable)
	}
	if ok, _, _ := Admit(&v1.Pod{Spec: v1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}}, an); !ok {
		t.Error("the admission node refuses a matching pod")
	}

	r.readStats = func(string) (HostStats, error) { return HostStats{}, errors.New("statfs: gone") }
	if _, err := r.Node(ctx); err == nil {
		t.Error("a failed host read is not reported")
	}
}

func TestRuntimeVersion(t *testing.T) {
	for in, want := range map[string]string{
		"containerd 1.7.35":    "containerd://1.7.35",
		"containerd v2.0.0":    "containerd://2.0.0",
		"containerd://1.6.20":  "containerd://1.6.20",
		"unknown":              "unknown",
		" containerd 1.7.35\n": "containerd://1.7.35",
	} {
		if got := RuntimeVersion(in); got != want {
			t.Errorf("RuntimeVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
