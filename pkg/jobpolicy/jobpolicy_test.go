package jobpolicy

import (
	"testing"
	"time"

	batch "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBackoff(t *testing.T) {
	last := time.Unix(1_000, 0)
	cases := []struct {
		failures int32
		elapsed  time.Duration
		want     time.Duration
	}{
		{0, 0, 0},
		{1, 0, 10 * time.Second},
		{1, 4 * time.Second, 6 * time.Second},
		{2, 0, 20 * time.Second},
		{3, 0, 40 * time.Second},
		{7, 0, 10 * time.Minute}, // 640 s, capped at 10 min
		{40, 0, 10 * time.Minute},
		{2, time.Minute, 0},
	}
	for _, c := range cases {
		if got := Backoff(c.failures, last, last.Add(c.elapsed)); got != c.want {
			t.Errorf("Backoff(%d, +%v) = %v, want %v", c.failures, c.elapsed, got, c.want)
		}
	}
}

func failedPod(code int32, container string, conds ...v1.PodCondition) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job-1-abcde", Namespace: "default"},
		Status: v1.PodStatus{Phase: v1.PodFailed, Conditions: conds,
			ContainerStatuses: []v1.ContainerStatus{
				{Name: "ok", State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 0}}},
				{Name: container, State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: code}}},
			}}}
}

func TestJudge(t *testing.T) {
	main := "main"
	policy := &batch.PodFailurePolicy{Rules: []batch.PodFailurePolicyRule{
		{Action: batch.PodFailurePolicyActionIgnore, OnPodConditions: []batch.PodFailurePolicyOnPodConditionsPattern{{Type: v1.DisruptionTarget, Status: v1.ConditionTrue}}},
		{Action: batch.PodFailurePolicyActionFailJob, OnExitCodes: &batch.PodFailurePolicyOnExitCodesRequirement{ContainerName: &main, Operator: batch.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batch.PodFailurePolicyActionCount, OnExitCodes: &batch.PodFailurePolicyOnExitCodesRequirement{Operator: batch.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
	}}
	v := Judge(policy, failedPod(42, "main"))
	if v.Action == nil || *v.Action != batch.PodFailurePolicyActionFailJob || !v.Counts ||
		v.FailJob != "Container main for pod default/job-1-abcde failed with exit code 42 matching FailJob rule at index 1" {
		t.Errorf("exit 42 in main: %+v %q", v, v.FailJob)
	}
	if v := Judge(policy, failedPod(42, "side")); v.Action == nil || *v.Action != batch.PodFailurePolicyActionCount {
		t.Errorf("exit 42 in another container: %+v", v)
	}
	if v := Judge(policy, failedPod(1, "main")); v.Action != nil || !v.Counts {
		t.Errorf("exit 1, no rule: %+v", v)
	}
	disrupted := failedPod(137, "main", v1.PodCondition{Type: v1.DisruptionTarget, Status: v1.ConditionTrue})
	if v := Judge(policy, disrupted); v.Action == nil || *v.Action != batch.PodFailurePolicyActionIgnore || v.Counts {
		t.Errorf("disrupted: %+v", v)
	}
	if v := Judge(nil, failedPod(3, "main")); v.Action != nil || !v.Counts || v.FailJob != "" {
		t.Errorf("no policy: %+v", v)
	}
}
