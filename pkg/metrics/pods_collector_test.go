package metrics

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
)

func statuses(states ...v1.ContainerState) []v1.ContainerStatus {
	out := make([]v1.ContainerStatus, len(states))
	for i, s := range states {
		out[i] = v1.ContainerStatus{Name: "c", State: s}
	}
	return out
}

var (
	running    = v1.ContainerState{Running: &v1.ContainerStateRunning{}}
	waiting    = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	terminated = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 0}}
	noState    = v1.ContainerState{}
)

const podsHeader = `
# HELP minilet_build_info A metric with a constant '1' value labelled by the minilet version and the Go version that built it.
# TYPE minilet_build_info gauge
minilet_build_info{goversion="GOVERSION",version="v1.2.3"} 1
# HELP minilet_containers Containers of the pods minilet manages (app, init and sidecar), by state.
# TYPE minilet_containers gauge
# HELP minilet_pods Pods minilet manages, by phase.
# TYPE minilet_pods gauge
`

func TestPodCollector(t *testing.T) {
	for _, tc := range []struct {
		name string
		pods PodLister
		want string
	}{{
		name: "nil lister",
		want: `
minilet_containers{state="running"} 0
minilet_containers{state="terminated"} 0
minilet_containers{state="waiting"} 0
minilet_pods{phase="Failed"} 0
minilet_pods{phase="Pending"} 0
minilet_pods{phase="Running"} 0
minilet_pods{phase="Succeeded"} 0
minilet_pods{phase="Unknown"} 0
`,
	}, {
		name: "no pods",
		pods: podList{},
		want: `
minilet_containers{state="running"} 0
minilet_containers{state="terminated"} 0
minilet_containers{state="waiting"} 0
minilet_pods{phase="Failed"} 0
minilet_pods{phase="Pending"} 0
minilet_pods{phase="Running"} 0
minilet_pods{phase="Succeeded"} 0
minilet_pods{phase="Unknown"} 0
`,
	}, {
		name: "mixed",
		pods: podList{
			// init container done, sidecar running, two app containers
			{Status: v1.PodStatus{Phase: v1.PodRunning,
				InitContainerStatuses: statuses(terminated, running),
				ContainerStatuses:     statuses(running, waiting)}},
			{Status: v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: statuses(running)}},
			// no phase yet, status made from the spec: Pending, waiting
			{Status: v1.PodStatus{ContainerStatuses: statuses(noState)}},
			{Status: v1.PodStatus{Phase: v1.PodSucceeded, ContainerStatuses: statuses(terminated)}},
			{Status: v1.PodStatus{Phase: v1.PodFailed, ContainerStatuses: statuses(terminated, terminated)}},
			{Status: v1.PodStatus{Phase: "Bogus"}},
		},
		want: `
minilet_containers{state="running"} 3
minilet_containers{state="terminated"} 4
minilet_containers{state="waiting"} 2
minilet_pods{phase="Failed"} 1
minilet_pods{phase="Pending"} 1
minilet_pods{phase="Running"} 2
minilet_pods{phase="Succeeded"} 1
minilet_pods{phase="Unknown"} 1
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.ReplaceAll(podsHeader, "GOVERSION", goruntime.Version()) + tc.want
			c := newPodCollector("v1.2.3", tc.pods)
			if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
			if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
		})
	}
}

// TestPodCollectorNoStaleSeries checks that the gauges follow the lister
// from scrape to scrape: a pod that is gone is no longer counted.
func TestPodCollectorNoStaleSeries(t *testing.T) {
	var l mutableList
	l.pods = podList{{Status: v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: statuses(running)}}}
	_, reg := newTest(t, &l)
	want := func(pods, containers int) string {
		return fmt.Sprintf(`
# HELP minilet_pods Pods minilet manages, by phase.
# TYPE minilet_pods gauge
minilet_pods{phase="Failed"} 0
minilet_pods{phase="Pending"} 0
minilet_pods{phase="Running"} %d
minilet_pods{phase="Succeeded"} 0
minilet_pods{phase="Unknown"} 0
# HELP minilet_containers Containers of the pods minilet manages (app, init and sidecar), by state.
# TYPE minilet_containers gauge
minilet_containers{state="running"} %d
minilet_containers{state="terminated"} 0
minilet_containers{state="waiting"} 0
`, pods, containers)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(1, 1)), "minilet_pods", "minilet_containers"); err != nil {
		t.Error(err)
	}
	l.pods = nil
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(0, 0)), "minilet_pods", "minilet_containers"); err != nil {
		t.Error(err)
	}
}

type mutableList struct{ pods podList }

func (l *mutableList) Pods() []v1.Pod { return l.pods }
