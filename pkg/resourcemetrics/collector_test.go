package resourcemetrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/eviction"
)

type fakeCgroups map[string][2]int64 // cgroup → cpu ns, working set

func (f fakeCgroups) CPUUsage(cg string) (int64, error) {
	v, ok := f[cg]
	if !ok {
		return 0, errors.New("no cgroup")
	}
	return v[0], nil
}

func (f fakeCgroups) WorkingSet(cg string) (int64, error) {
	v, ok := f[cg]
	if !ok {
		return 0, errors.New("no cgroup")
	}
	return v[1], nil
}

func TestCollector(t *testing.T) {
	started := time.Unix(1700000000, 0)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web"},
		Status: v1.PodStatus{ContainerStatuses: []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}}}}
	cg := fakeCgroups{"/": {5e9, 1 << 30}, "/minilet/p1": {3e9, 2000}, "/minilet/p1/c1": {2500000000, 1500}}
	refs := []eviction.PodRef{{Pod: pod, CgroupParent: "/minilet/p1", Containers: map[string]string{"app": "c1", "gone": "c2"}}}
	c := New(Config{Pods: func() []eviction.PodRef { return refs }, Cgroups: cg,
		Name: func(p *v1.Pod) string { return p.Name + "-node1" }, Now: func() time.Time { return time.UnixMilli(1796400000000) }})
	want := `
# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="app",namespace="team",pod="web-node1"} 2.5 1796400000000
# HELP container_memory_working_set_bytes Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="app",namespace="team",pod="web-node1"} 1500 1796400000000
# HELP container_start_time_seconds Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="app",namespace="team",pod="web-node1"} 1.7e+09 1796400000000
# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 5 1796400000000
# HELP node_memory_working_set_bytes Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1.073741824e+09 1796400000000
# HELP pod_cpu_usage_seconds_total Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="team",pod="web-node1"} 3 1796400000000
# HELP pod_memory_working_set_bytes Current working set of the pod in bytes
# TYPE pod_memory_working_set_bytes gauge
pod_memory_working_set_bytes{namespace="team",pod="web-node1"} 2000 1796400000000
# HELP resource_scrape_error 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 1
`
	// The container "gone" has no cgroup: left out, and the scrape says so.
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic registry: %v", err)
	}
}
