// Package resourcemetrics serves the kubelet's resource metrics
// (/metrics/resource): the CPU time and memory working set of the node,
// each running pod and each of its containers, read from the cgroups, in
// the kubelet's names, labels and units, each sample with the time it was
// read. metrics-server scrapes them for `kubectl top` and the Horizontal
// Pod Autoscaler.
package resourcemetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/eviction"
)

// Cgroups reads a cgroup's use (cgroupfs.FS); "/" is the machine.
type Cgroups interface {
	WorkingSet(cgroup string) (int64, error)
	CPUUsage(cgroup string) (int64, error)
}

// Config is what the collector reads.
type Config struct {
	// Pods are the running pods with their cgroups
	// (pod.Manager.EvictionCandidates).
	Pods func() []eviction.PodRef
	// Cgroups reads their use.
	Cgroups Cgroups
	// Name is the name a pod has in the metrics (nil: its own). In
	// cluster mode a file's pod is named as its mirror pod, so that
	// metrics-server finds it.
	Name func(*v1.Pod) string
	Now  func() time.Time // nil: time.Now
}

// Collector is a prometheus.Collector of the resource metrics.
type Collector struct {
	cfg Config
}

// New returns the collector of cfg.
func New(cfg Config) *Collector {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == nil {
		cfg.Name = func(p *v1.Pod) string { return p.Name }
	}
	return &Collector{cfg: cfg}
}

var (
	nodeCPU = prometheus.NewDesc("node_cpu_usage_seconds_total",
		"Cumulative cpu time consumed by the node in core-seconds", nil, nil)
	nodeMemory = prometheus.NewDesc("node_memory_working_set_bytes",
		"Current working set of the node in bytes", nil, nil)
	podCPU = prometheus.NewDesc("pod_cpu_usage_seconds_total",
		"Cumulative cpu time consumed by the pod in core-seconds", []string{"pod", "namespace"}, nil)
	podMemory = prometheus.NewDesc("pod_memory_working_set_bytes",
		"Current working set of the pod in bytes", []string{"pod", "namespace"}, nil)
	containerCPU = prometheus.NewDesc("container_cpu_usage_seconds_total",
		"Cumulative cpu time consumed by the container in core-seconds", []string{"container", "pod", "namespace"}, nil)
	containerMemory = prometheus.NewDesc("container_memory_working_set_bytes",
		"Current working set of the container in bytes", []string{"container", "pod", "namespace"}, nil)
	containerStart = prometheus.NewDesc("container_start_time_seconds",
		"Start time of the container since unix epoch in seconds", []string{"container", "pod", "namespace"}, nil)
	scrapeError = prometheus.NewDesc("resource_scrape_error",
		"1 if there was an error while getting container metrics, 0 otherwise", nil, nil)
)

// Describe sends the metrics' descriptions.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodeCPU, nodeMemory, podCPU, podMemory, containerCPU, containerMemory, containerStart, scrapeError} {
		ch <- d
	}
}

// Collect reads the cgroups now. A pod or container whose cgroup cannot
// be read (it just stopped) is left out and counted in
// resource_scrape_error.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	failed := false
	emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64, at time.Time, labels ...string) {
		ch <- prometheus.NewMetricWithTimestamp(at, prometheus.MustNewConstMetric(d, t, v, labels...))
	}
	usage := func(cgroup string, cpu, mem *prometheus.Desc, labels ...string) {
		at := c.cfg.Now()
		if ns, err := c.cfg.Cgroups.CPUUsage(cgroup); err == nil {
			emit(cpu, prometheus.CounterValue, float64(ns)/1e9, at, labels...)
		} else {
			failed = true
		}
		if b, err := c.cfg.Cgroups.WorkingSet(cgroup); err == nil {
			emit(mem, prometheus.GaugeValue, float64(b), at, labels...)
		} else {
			failed = true
		}
	}
	usage("/", nodeCPU, nodeMemory)
	for _, ref := range c.cfg.Pods() {
		pod := ref.Pod
		name := c.cfg.Name(pod)
		usage(ref.CgroupParent, podCPU, podMemory, name, pod.Namespace)
		started := ref.StartTimes()
		for container, id := range ref.Containers {
			usage(ref.CgroupParent+"/"+id, containerCPU, containerMemory, container, name, pod.Namespace)
			if t, ok := started[container]; ok {
				emit(containerStart, prometheus.GaugeValue, float64(t.UnixNano())/1e9, c.cfg.Now(), container, name, pod.Namespace)
			}
		}
	}
	v := 0.0
	if failed {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeError, prometheus.GaugeValue, v)
}
