// Package jobpolicy holds the Job controller's per-pod rules
// (pkg/controller/job of Kubernetes): the delay before a failed pod is
// replaced, and what a podFailurePolicy says of a failed pod. It is pure.
package jobpolicy

import (
	"fmt"
	"slices"
	"time"

	batch "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
)

// The Job controller's back-off between failed pods: 10 s, doubling, at
// most 10 minutes.
const (
	BackoffBase = 10 * time.Second
	BackoffMax  = 10 * time.Minute
)

// Backoff is how long to wait, at now, before a new pod replaces failed
// ones: failures is how many pods failed since the last success (or
// since the start), the last of them at lastFailure.
func Backoff(failures int32, lastFailure, now time.Time) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := BackoffBase
	for i := int32(1); i < failures && d < BackoffMax; i++ {
		d *= 2
	}
	d = min(d, BackoffMax)
	if elapsed := now.Sub(lastFailure); elapsed < d {
		return d - elapsed
	}
	return 0
}

// Verdict is what a podFailurePolicy says of one failed pod.
type Verdict struct {
	// Action is the matching rule's action, nil when no rule matches (the
	// failure then counts towards backoffLimit).
	Action *batch.PodFailurePolicyAction
	// Counts: the failure counts towards backoffLimit (false for Ignore).
	Counts bool
	// FailJob is the Job's failure message when the action is FailJob.
	FailJob string
}

// Judge applies policy to a failed pod: the first rule whose exit codes
// (of a terminated app or init container that failed) or pod conditions
// match decides.
func Judge(policy *batch.PodFailurePolicy, pod *v1.Pod) Verdict {
	if policy == nil {
		return Verdict{Counts: true}
	}
	for i, rule := range policy.Rules {
		action := rule.Action
		var why string
		switch {
		case rule.OnExitCodes != nil:
			cs := failedContainer(pod, rule.OnExitCodes)
			if cs == nil {
				continue
			}
			why = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
				cs.Name, pod.Namespace, pod.Name, cs.State.Terminated.ExitCode, action, i)
		case rule.OnPodConditions != nil:
			c := matchingCondition(pod, rule.OnPodConditions)
			if c == nil {
				continue
			}
			why = fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d", pod.Namespace, pod.Name, c.Type, action, i)
		default:
			continue
		}
		v := Verdict{Action: &action, Counts: action != batch.PodFailurePolicyActionIgnore}
		if action == batch.PodFailurePolicyActionFailJob {
			v.FailJob = why
		}
		return v
	}
	return Verdict{Counts: true}
}

// failedContainer is the first app (then init) container that terminated
// with a non-zero code the requirement matches.
func failedContainer(pod *v1.Pod, req *batch.PodFailurePolicyOnExitCodesRequirement) *v1.ContainerStatus {
	for _, list := range [][]v1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 || (req.ContainerName != nil && *req.ContainerName != cs.Name) {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			if (req.Operator == batch.PodFailurePolicyOnExitCodesOpIn && in) || (req.Operator == batch.PodFailurePolicyOnExitCodesOpNotIn && !in) {
				return cs
			}
		}
	}
	return nil
}

func matchingCondition(pod *v1.Pod, patterns []batch.PodFailurePolicyOnPodConditionsPattern) *v1.PodCondition {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		for _, p := range patterns {
			if c.Type == p.Type && c.Status == p.Status {
				return c
			}
		}
	}
	return nil
}
