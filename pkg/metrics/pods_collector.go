package metrics

import (
	goruntime "runtime"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
)

// Container states, the values of minilet_containers's state label.
const (
	stateWaiting    = "waiting"
	stateRunning    = "running"
	stateTerminated = "terminated"
)

// podPhases are the values of minilet_pods's phase label, all reported on
// every scrape.
var podPhases = []v1.PodPhase{v1.PodPending, v1.PodRunning, v1.PodSucceeded, v1.PodFailed, v1.PodUnknown}

// podCollector builds the build-info, pod and container gauges at scrape
// time from the pod manager's view, the way node_exporter's collectors
// read the system: nothing is stored between scrapes, so a pod that is
// gone is simply not counted and no series goes stale.
type podCollector struct {
	version    string
	pods       PodLister
	buildInfo  *prometheus.Desc
	podsDesc   *prometheus.Desc
	containers *prometheus.Desc
}

func newPodCollector(version string, pods PodLister) *podCollector {
	return &podCollector{
		version: version,
		pods:    pods,
		buildInfo: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "build_info"),
			"A metric with a constant '1' value labelled by the minilet version and the Go version that built it.",
			[]string{"version", "goversion"}, nil),
		podsDesc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "pods"),
			"Pods minilet manages, by phase.",
			[]string{"phase"}, nil),
		containers: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "containers"),
			"Containers of the pods minilet manages (app, init and sidecar), by state.",
			[]string{"state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *podCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.buildInfo
	ch <- c.podsDesc
	ch <- c.containers
}

// Collect implements prometheus.Collector.
func (c *podCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1, c.version, goruntime.Version())

	phases := make(map[v1.PodPhase]int, len(podPhases))
	states := map[string]int{stateWaiting: 0, stateRunning: 0, stateTerminated: 0}
	var pods []v1.Pod
	if c.pods != nil {
		pods = c.pods.Pods()
	}
	for i := range pods {
		p := &pods[i]
		phases[phaseOf(p.Status.Phase)]++
		for _, list := range [][]v1.ContainerStatus{
			p.Status.InitContainerStatuses, // init containers and sidecars
			p.Status.ContainerStatuses,
			p.Status.EphemeralContainerStatuses,
		} {
			for j := range list {
				states[stateOf(&list[j].State)]++
			}
		}
	}
	for _, ph := range podPhases {
		ch <- prometheus.MustNewConstMetric(c.podsDesc, prometheus.GaugeValue, float64(phases[ph]), string(ph))
	}
	for _, s := range []string{stateWaiting, stateRunning, stateTerminated} {
		ch <- prometheus.MustNewConstMetric(c.containers, prometheus.GaugeValue, float64(states[s]), s)
	}
}

// phaseOf maps a pod's phase to a label value: a pod without one yet is
// Pending, and a phase this code does not know is Unknown, so the label
// set stays fixed.
func phaseOf(ph v1.PodPhase) v1.PodPhase {
	switch ph {
	case "":
		return v1.PodPending
	case v1.PodPending, v1.PodRunning, v1.PodSucceeded, v1.PodFailed:
		return ph
	default:
		return v1.PodUnknown
	}
}

// stateOf maps a container state to a label value. A state with none of
// its fields set is waiting, as the API defines it.
func stateOf(s *v1.ContainerState) string {
	switch {
	case s.Running != nil:
		return stateRunning
	case s.Terminated != nil:
		return stateTerminated
	default:
		return stateWaiting
	}
}
