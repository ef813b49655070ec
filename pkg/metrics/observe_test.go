package metrics

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNewRegistersOnGivenRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	// A second New on the same registry collides rather than silently
	// sharing state.
	if _, err := New(reg); err == nil {
		t.Fatal("second New on the same registry: got nil error")
	}
	if err := RegisterPods(reg, "v1", nil); err != nil {
		t.Fatal(err)
	}
	if err := RegisterPods(reg, "v1", nil); err == nil {
		t.Fatal("second RegisterPods on the same registry: got nil error")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{
		"minilet_build_info", "minilet_pods", "minilet_containers",
		"minilet_runtime_operations_errors_total",
		"go_goroutines", "process_start_time_seconds",
	} {
		if !have[name] {
			t.Errorf("%s not gathered", name)
		}
	}
}

func TestContainerRestarted(t *testing.T) {
	m, reg := newTest(t, nil)
	m.ContainerRestarted("default", "web", "app", "Error")
	m.ContainerRestarted("default", "web", "app", "Error")
	m.ContainerRestarted("default", "web", "app", "OOMKilled")
	m.ContainerRestarted("kube-system", "dns", "coredns", "LivenessProbe")
	want := `
# HELP minilet_container_restarts_total Container restarts by minilet, by the reason the previous instance ended.
# TYPE minilet_container_restarts_total counter
minilet_container_restarts_total{container="app",namespace="default",pod="web",reason="Error"} 2
minilet_container_restarts_total{container="app",namespace="default",pod="web",reason="OOMKilled"} 1
minilet_container_restarts_total{container="coredns",namespace="kube-system",pod="dns",reason="LivenessProbe"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "minilet_container_restarts_total"); err != nil {
		t.Error(err)
	}
}

func TestObserveProbe(t *testing.T) {
	m, reg := newTest(t, nil)
	m.ObserveProbe("default", "web", "app", "Liveness", ProbeSuccessful, 2*time.Millisecond)
	m.ObserveProbe("default", "web", "app", "Liveness", ProbeFailed, 1*time.Second)
	m.ObserveProbe("default", "web", "app", "Readiness", ProbeSuccessful, 30*time.Millisecond)
	m.ObserveProbe("default", "web", "app", "Readiness", "bogus", 20*time.Second) // counted as unknown
	want := `
# HELP minilet_probe_total Probe runs by result (successful, failed, unknown), as the kubelet's prober_probe_total.
# TYPE minilet_probe_total counter
minilet_probe_total{container="app",namespace="default",pod="web",probe_type="Liveness",result="failed"} 1
minilet_probe_total{container="app",namespace="default",pod="web",probe_type="Liveness",result="successful"} 1
minilet_probe_total{container="app",namespace="default",pod="web",probe_type="Readiness",result="successful"} 1
minilet_probe_total{container="app",namespace="default",pod="web",probe_type="Readiness",result="unknown"} 1
# HELP minilet_probe_duration_seconds Time taken by one probe run.
# TYPE minilet_probe_duration_seconds histogram
` + histogram("minilet_probe_duration_seconds", `probe_type="Liveness"`, probeBuckets, 0.002, 1) +
		histogram("minilet_probe_duration_seconds", `probe_type="Readiness"`, probeBuckets, 0.03, 20)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "minilet_probe_total", "minilet_probe_duration_seconds"); err != nil {
		t.Error(err)
	}
}

func TestObservePodStart(t *testing.T) {
	m, reg := newTest(t, nil)
	m.ObservePodStart(700 * time.Millisecond)
	m.ObservePodStart(90 * time.Second)
	want := `
# HELP minilet_pod_start_duration_seconds Time from a pod's manifest being seen to all its containers running.
# TYPE minilet_pod_start_duration_seconds histogram
` + histogram("minilet_pod_start_duration_seconds", "", podStartBuckets, 0.7, 90)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "minilet_pod_start_duration_seconds"); err != nil {
		t.Error(err)
	}
}

func TestManifestError(t *testing.T) {
	m, reg := newTest(t, nil)
	want := func(n string) string {
		return `
# HELP minilet_manifest_errors_total Manifests that could not be read, decoded or validated.
# TYPE minilet_manifest_errors_total counter
minilet_manifest_errors_total ` + n + "\n"
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want("0")), "minilet_manifest_errors_total"); err != nil {
		t.Error(err)
	}
	m.ManifestError()
	m.ManifestError()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want("2")), "minilet_manifest_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestForgetPod(t *testing.T) {
	m, reg := newTest(t, nil)
	for _, pod := range []string{"web", "db"} {
		m.ContainerRestarted("default", pod, "app", "Error")
		m.ObserveProbe("default", pod, "app", "Liveness", ProbeFailed, time.Millisecond)
		m.ObserveProbe("default", pod, "sidecar", "Readiness", ProbeSuccessful, time.Millisecond)
	}
	// Same pod name in another namespace stays.
	m.ContainerRestarted("other", "web", "app", "Completed")
	m.ObserveProbe("other", "web", "app", "Startup", ProbeSuccessful, time.Millisecond)

	m.ForgetPod("default", "web")
	m.ForgetPod("default", "never-seen") // no-op

	want := `
# HELP minilet_container_restarts_total Container restarts by minilet, by the reason the previous instance ended.
# TYPE minilet_container_restarts_total counter
minilet_container_restarts_total{container="app",namespace="default",pod="db",reason="Error"} 1
minilet_container_restarts_total{container="app",namespace="other",pod="web",reason="Completed"} 1
# HELP minilet_probe_total Probe runs by result (successful, failed, unknown), as the kubelet's prober_probe_total.
# TYPE minilet_probe_total counter
minilet_probe_total{container="app",namespace="default",pod="db",probe_type="Liveness",result="failed"} 1
minilet_probe_total{container="sidecar",namespace="default",pod="db",probe_type="Readiness",result="successful"} 1
minilet_probe_total{container="app",namespace="other",pod="web",probe_type="Startup",result="successful"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "minilet_container_restarts_total", "minilet_probe_total"); err != nil {
		t.Error(err)
	}

	m.ForgetPod("default", "db")
	m.ForgetPod("other", "web")
	for _, name := range []string{"minilet_container_restarts_total", "minilet_probe_total"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 0 {
			t.Errorf("%s after forgetting every pod: %d series, err %v", name, n, err)
		}
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	m.ContainerRestarted("ns", "p", "c", "Error")
	m.ObserveProbe("ns", "p", "c", "Liveness", ProbeFailed, time.Second)
	m.ObservePodStart(time.Second)
	m.ManifestError()
	m.ForgetPod("ns", "p")
	rt := &fakeRuntime{}
	if got := m.InstrumentRuntime(rt); got != rt {
		t.Errorf("nil InstrumentRuntime wrapped the runtime: %T", got)
	}
}

// TestConcurrentUse is for the race detector.
func TestConcurrentUse(t *testing.T) {
	m, reg := newTest(t, podList{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := []string{"a", "b"}[i%2]
			for range 100 {
				m.ContainerRestarted("ns", pod, "c", "Error")
				m.ObserveProbe("ns", pod, "c", "Liveness", ProbeSuccessful, time.Millisecond)
				m.ObservePodStart(time.Second)
				m.ManifestError()
				m.ForgetPod("ns", pod)
			}
		}()
	}
	for range 10 {
		if _, err := reg.Gather(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}
