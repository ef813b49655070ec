package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Probe results, the values of minilet_probe_total's result label. They
// are the kubelet's prober_probe_total values.
const (
	ProbeSuccessful = "successful"
	ProbeFailed     = "failed"
	ProbeUnknown    = "unknown"
)

// ContainerRestarted counts one restart of container in namespace/pod.
// reason says why the previous instance ended or was killed: "Error",
// "Completed", "OOMKilled", "LivenessProbe", "StartupProbe",
// "SandboxChanged".
func (m *Metrics) ContainerRestarted(namespace, pod, container, reason string) {
	if m == nil {
		return
	}
	m.restarts.WithLabelValues(namespace, pod, container, reason).Inc()
}

// ObserveProbe counts one probe run and its duration. probeType is
// "Liveness", "Readiness" or "Startup", as the kubelet labels them; result
// is ProbeSuccessful, ProbeFailed or ProbeUnknown, and any other value is
// counted as ProbeUnknown so a typo cannot mint new series.
func (m *Metrics) ObserveProbe(namespace, pod, container, probeType, result string, took time.Duration) {
	if m == nil {
		return
	}
	switch result {
	case ProbeSuccessful, ProbeFailed, ProbeUnknown:
	default:
		result = ProbeUnknown
	}
	m.probes.WithLabelValues(namespace, pod, container, probeType, result).Inc()
	m.probeDuration.WithLabelValues(probeType).Observe(took.Seconds())
}

// ObservePodStart records the time from a pod's manifest being seen to all
// of its containers running.
func (m *Metrics) ObservePodStart(took time.Duration) {
	if m == nil {
		return
	}
	m.podStart.Observe(took.Seconds())
}

// ImageGCFreed counts images image GC removed and their bytes.
func (m *Metrics) ImageGCFreed(bytes int64, images int) {
	if m == nil {
		return
	}
	m.imageGCBytes.Add(float64(bytes))
	m.imageGCImages.Add(float64(images))
}

// Evicted counts one pod evicted under the pressure of signal.
func (m *Metrics) Evicted(signal string) {
	if m == nil {
		return
	}
	m.evictions.WithLabelValues(signal).Inc()
}

// ManifestError counts one manifest that could not be read, decoded or
// validated.
func (m *Metrics) ManifestError() {
	if m == nil {
		return
	}
	m.manifestErrors.Inc()
}

// ForgetPod deletes every per-pod series of namespace/pod (restarts and
// probe counts), so the series vanish with the pod. Call it when the pod
// is removed, not when it restarts.
func (m *Metrics) ForgetPod(namespace, pod string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"namespace": namespace, "pod": pod}
	m.restarts.DeletePartialMatch(l)
	m.probes.DeletePartialMatch(l)
}
