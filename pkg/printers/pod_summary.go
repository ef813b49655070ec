package printers

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodSummary is what the READY, STATUS and RESTARTS columns of
// `kubectl get pods` say about a pod.
type PodSummary struct {
	// Ready and Total count the app containers (and sidecars, that is
	// restartable init containers) that are ready, and all of them.
	Ready, Total int
	// Status is the STATUS column: the phase, or the reason that explains
	// it best (CrashLoopBackOff, Init:1/2, Completed, Terminating...).
	Status string
	// Restarts sums the restart counts that kubectl shows.
	Restarts int
	// LastRestart is when the last restarted container last ended, or zero.
	LastRestart time.Time
}

// PodStatus is the STATUS column of `kubectl get pods` for pod.
func PodStatus(pod *v1.Pod) string { return SummarizePod(pod).Status }

// SummarizePod computes the READY, STATUS and RESTARTS columns with the
// rules of kubectl's pod printer: a pod's reason wins over its phase; a
// failing or unfinished init container shows as Init:<reason> or Init:N/M;
// otherwise the last app container that is waiting or terminated gives its
// reason (or Signal:N / ExitCode:N); Completed with a container still
// running is Running or NotReady; a pod being deleted is Terminating.
func SummarizePod(pod *v1.Pod) PodSummary {
	s := PodSummary{Total: len(pod.Spec.Containers), Status: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		s.Status = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Reason == v1.PodReasonSchedulingGated {
			s.Status = v1.PodReasonSchedulingGated
		}
	}

	sidecars := map[string]bool{}
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			sidecars[pod.Spec.InitContainers[i].Name] = true
			s.Total++
		}
	}

	// Init containers: all their restarts count while the pod initializes;
	// afterwards only the sidecars' do.
	var sidecarRestarts int
	var lastSidecarRestart time.Time
	initializing := false
	for i, cs := range pod.Status.InitContainerStatuses {
		s.Restarts += int(cs.RestartCount)
		s.LastRestart = later(s.LastRestart, lastTermination(cs))
		if sidecars[cs.Name] {
			sidecarRestarts += int(cs.RestartCount)
			lastSidecarRestart = later(lastSidecarRestart, lastTermination(cs))
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case sidecars[cs.Name] && cs.Started != nil && *cs.Started:
			if cs.Ready {
				s.Ready++
			}
			continue
		case cs.State.Terminated != nil:
			s.Status = "Init:" + terminatedReason(cs.State.Terminated)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			s.Status = "Init:" + cs.State.Waiting.Reason
		default:
			s.Status = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || hasCondition(pod, v1.PodInitialized) {
		s.Restarts = sidecarRestarts
		s.LastRestart = lastSidecarRestart
		hasRunning := false
		// The first container's reason wins, so walk them backwards.
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := pod.Status.ContainerStatuses[i]
			s.Restarts += int(cs.RestartCount)
			s.LastRestart = later(s.LastRestart, lastTermination(cs))
			switch {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				s.Status = cs.State.Waiting.Reason
			case cs.State.Terminated != nil:
				s.Status = terminatedReason(cs.State.Terminated)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				s.Ready++
			}
		}
		if s.Status == "Completed" && hasRunning {
			if hasCondition(pod, v1.PodReady) {
				s.Status = "Running"
			} else {
				s.Status = "NotReady"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == "NodeLost":
			s.Status = "Unknown"
		case pod.Status.Phase != v1.PodSucceeded && pod.Status.Phase != v1.PodFailed:
			s.Status = "Terminating"
		}
	}
	return s
}

// RestartsColumn is the RESTARTS column: the count, and how long ago the
// last restart was, e.g. "5 (3m20s ago)".
func (s PodSummary) RestartsColumn(now time.Time) string {
	if s.Restarts != 0 && !s.LastRestart.IsZero() {
		return fmt.Sprintf("%d (%s ago)", s.Restarts, Age(metav1.NewTime(s.LastRestart), now))
	}
	return fmt.Sprint(s.Restarts)
}

// ReadyColumn is the READY column, e.g. "1/2".
func (s PodSummary) ReadyColumn() string { return fmt.Sprintf("%d/%d", s.Ready, s.Total) }

// terminatedReason is the reason of a terminated container, or its signal
// or exit code when it has none.
func terminatedReason(t *v1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	default:
		return fmt.Sprintf("ExitCode:%d", t.ExitCode)
	}
}

// isSidecar tells whether an init container is restartable: a sidecar
// that keeps running beside the app containers.
func isSidecar(c *v1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
}

func hasCondition(pod *v1.Pod, t v1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t && c.Status == v1.ConditionTrue {
			return true
		}
	}
	return false
}

func lastTermination(cs v1.ContainerStatus) time.Time {
	if t := cs.LastTerminationState.Terminated; t != nil {
		return t.FinishedAt.Time
	}
	return time.Time{}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
