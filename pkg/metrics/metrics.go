package metrics

import (
	"fmt"

	"github.com/minilet/minilet/pkg/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	v1 "k8s.io/api/core/v1"
)

// namespace prefixes every minilet metric name.
const namespace = "minilet"

// Histogram buckets, in seconds, chosen for what each histogram times.
var (
	// podStartBuckets spans a cached image on an idle node (tens of ms)
	// to a slow pull plus init containers (a minute).
	podStartBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60}
	// probeBuckets spans a TCP dial on loopback to a probe's timeout.
	probeBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	// runtimeBuckets spans a status call to a container stop with grace.
	runtimeBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	// imagePullBuckets spans a small layer from a mirror to a large image
	// over a slow link.
	imagePullBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300}
)

// PodLister is what the scrape-time collector reads (the pod manager
// implements it). Pods must be safe to call from the scrape goroutine and
// return a snapshot the collector may read without locks.
type PodLister interface {
	Pods() []v1.Pod
}

// Metrics holds the metrics that other packages observe. All methods are
// safe for concurrent use, and a nil *Metrics is a valid no-op, so tests
// and callers that run without metrics can pass nil.
type Metrics struct {
	restarts        *prometheus.CounterVec
	probes          *prometheus.CounterVec
	probeDuration   *prometheus.HistogramVec
	podStart        prometheus.Histogram
	manifestErrors  prometheus.Counter
	runtimeDuration *prometheus.HistogramVec
	runtimeErrors   *prometheus.CounterVec
	imagePull       prometheus.Histogram
	imageGCBytes    prometheus.Counter
	imageGCImages   prometheus.Counter
	evictions       *prometheus.CounterVec

	// clock times runtime calls; tests replace it.
	clock clock.Clock
}

// New registers minilet's event collectors on reg (restarts, probes,
// starts, runtime calls), plus the Go and process collectors, and returns
// the handle that other packages observe through. The pod gauges come from
// RegisterPods.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "container_restarts_total",
			Help:      "Container restarts by minilet, by the reason the previous instance ended.",
		}, []string{"namespace", "pod", "container", "reason"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "probe_total",
			Help:      "Probe runs by result (successful, failed, unknown), as the kubelet's prober_probe_total.",
		}, []string{"namespace", "pod", "container", "probe_type", "result"}),
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "probe_duration_seconds",
			Help:      "Time taken by one probe run.",
			Buckets:   probeBuckets,
		}, []string{"probe_type"}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "pod_start_duration_seconds",
			Help:      "Time from a pod's manifest being seen to all its containers running.",
			Buckets:   podStartBuckets,
		}),
		manifestErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "manifest_errors_total",
			Help:      "Manifests that could not be read, decoded or validated.",
		}),
		runtimeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "runtime_operations_duration_seconds",
			Help:      "Duration of container runtime calls, by operation.",
			Buckets:   runtimeBuckets,
		}, []string{"operation"}),
		runtimeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "runtime_operations_errors_total",
			Help:      "Container runtime calls that returned an error, by operation.",
		}, []string{"operation"}),
		imagePull: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "image_pull_duration_seconds",
			Help:      "Duration of image ensures that pulled the image.",
			Buckets:   imagePullBuckets,
		}),
		imageGCBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "image_gc_freed_bytes_total",
			Help:      "Bytes of the images image garbage collection (and minilet images prune) removed, by their sizes.",
		}),
		imageGCImages: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "image_gc_removed_images_total",
			Help:      "Images image garbage collection (and minilet images prune) removed.",
		}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "evictions_total",
			Help:      "Pods evicted under node pressure, by the signal whose threshold was met (the kubelet's kubelet_evictions).",
		}, []string{"eviction_signal"}),
		clock: clock.Real{},
	}
	// Every operation's error counter exists from the start, so a rate()
	// over it is 0 rather than absent until the first failure.
	for _, op := range runtimeOperations {
		m.runtimeErrors.WithLabelValues(op)
	}

	cs := []prometheus.Collector{
		m.restarts, m.probes, m.probeDuration, m.podStart, m.manifestErrors,
		m.runtimeDuration, m.runtimeErrors, m.imagePull, m.imageGCBytes, m.imageGCImages,
		m.evictions,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics collector: %w", err)
		}
	}
	return m, nil
}

// RegisterPods registers the collector that builds the build-info, pod and
// container gauges at scrape time from pods (the pod manager). It is apart
// from New because the pod manager is built with the Metrics as its
// observer.
func RegisterPods(reg prometheus.Registerer, version string, pods PodLister) error {
	if err := reg.Register(newPodCollector(version, pods)); err != nil {
		return fmt.Errorf("register pod metrics collector: %w", err)
	}
	return nil
}
