package integration

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
)

func jobManifest(name, spec, script string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
%s
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: work
        image: %s
        command: [sh, -c, %q]
`, name, spec, BusyboxImage, script)
}

// activeJobPods counts the pods of Job name that have not finished.
func activeJobPods(name string) func([]v1.Pod) (int, string) {
	return func(pods []v1.Pod) (int, string) {
		n := 0
		for _, p := range pods {
			if p.Labels["batch.kubernetes.io/job-name"] != name || p.DeletionTimestamp != nil {
				continue
			}
			if p.Status.Phase != v1.PodSucceeded && p.Status.Phase != v1.PodFailed {
				n++
			}
		}
		return n, summarize(pods)
	}
}

// TestJobCompletions: completions 5 / parallelism 2 completes with 5
// successful pods, never more than 2 at once, and the Job's status says
// so; its pods carry the Job controller's labels and owner.
func TestJobCompletions(t *testing.T) {
	d := startDaemon(t)
	watch := d.pollPods(activeJobPods("batch"), func(a, b int) bool { return a > b }, 0)
	d.writeManifest("batch.yaml", jobManifest("batch", "  completions: 5\n  parallelism: 2", "sleep 1"))
	var job *batchv1.Job
	d.eventually(120*time.Second, "the Job completes", func() error {
		j, err := d.job("batch")
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobComplete) == nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		job = j
		return nil
	})
	most, at, polls := watch.finish()
	if most > 2 {
		t.Errorf("%d pods of the Job ran at once (parallelism 2): %s", most, at)
	}
	if most == 0 {
		t.Errorf("the poller never saw a pod of the Job running (%d polls)", polls)
	}
	if job.Status.Succeeded != 5 || job.Status.Failed != 0 || job.Status.Active != 0 || job.Status.CompletionTime == nil || job.Status.StartTime == nil {
		t.Errorf("status %+v", job.Status)
	}
	pods, err := d.podsOwnedBy("Job", "batch")
	if err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	for _, p := range pods {
		if p.Status.Phase == v1.PodSucceeded {
			succeeded++
		}
		if p.Labels["batch.kubernetes.io/controller-uid"] != string(job.UID) || p.Labels["job-name"] != "batch" || !strings.HasPrefix(p.Name, "batch-") || len(p.Name) != len("batch-")+5 {
			t.Errorf("pod %s labels %v (job UID %s)", p.Name, p.Labels, job.UID)
		}
	}
	if succeeded != 5 || len(pods) != 5 {
		t.Errorf("%d pods, %d succeeded; want 5 and 5: %s", len(pods), succeeded, summarize(pods))
	}
	if out := d.cli("get", "pods", "-l", "batch.kubernetes.io/job-name=batch", "--field-selector", "status.phase=Succeeded", "--no-headers"); len(regexpAll(`(?m)^batch-\w{5}\s+0/1\s+Completed`, out)) != 5 {
		t.Errorf("get pods -l ... --field-selector status.phase=Succeeded:\n%s", out)
	}
	if out := d.cli("get", "jobs"); !regexpMatch(`(?m)^batch\s+Complete\s+5/5\s+\S+\s+\S+$`, out) {
		t.Errorf("get jobs:\n%s", out)
	}
	if out := d.cli("describe", "job", "batch"); !strings.Contains(out, "0 Active (0 Ready) / 5 Succeeded / 0 Failed") || !strings.Contains(out, "Completed") {
		t.Errorf("describe job:\n%s", out)
	}
	t.Logf("at most %d pods at once over %d polls", most, polls)
}

// TestJobBackoffLimit: a Job whose pods fail reaches BackoffLimitExceeded
// after backoffLimit + 1 failed pods, with the controller's delay between
// them, and makes no more pods.
func TestJobBackoffLimit(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("fail.yaml", jobManifest("fail", "  backoffLimit: 1", "exit 3"))
	var job *batchv1.Job
	d.eventually(90*time.Second, "the Job fails", func() error {
		j, err := d.job("fail")
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobFailed) == nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		job = j
		return nil
	})
	c := jobCondition(job, batchv1.JobFailed)
	if c.Reason != "BackoffLimitExceeded" || job.Status.Failed != 2 {
		t.Errorf("Failed condition %+v, failed %d; want BackoffLimitExceeded after 2", c, job.Status.Failed)
	}
	pods, _ := d.podsOwnedBy("Job", "fail")
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2: %s", len(pods), summarize(pods))
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp) })
	// The second pod waited for the back-off (10 s) after the first failed.
	first := containerStatus(&pods[0], "work")
	if first == nil || first.State.Terminated == nil {
		t.Fatalf("first pod %s: %+v", pods[0].Name, pods[0].Status)
	}
	gap := pods[1].CreationTimestamp.Sub(first.State.Terminated.FinishedAt.Time)
	if gap < 8*time.Second {
		t.Errorf("the second pod was made %v after the first failed, want the ~10 s back-off", gap)
	}
	evs, _ := d.Client.WorkloadEvents(t.Context(), "jobs", "default", "fail")
	if !strings.Contains(eventSummary(evs.Items), "BackoffLimitExceeded") {
		t.Errorf("events: %s", eventSummary(evs.Items))
	}
}

// TestJobIndexed: an Indexed Job runs each index once, in a pod named
// <job>-<index>-<5 chars> that sees its index in JOB_COMPLETION_INDEX.
func TestJobIndexed(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("idx.yaml", jobManifest("idx", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed", "echo index=$JOB_COMPLETION_INDEX"))
	d.eventually(90*time.Second, "the Job completes", func() error {
		j, err := d.job("idx")
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobComplete) == nil || j.Status.CompletedIndexes != "0-2" {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
	pods, _ := d.podsOwnedBy("Job", "idx")
	seen := map[string]int{}
	for _, p := range pods {
		idx := p.Annotations["batch.kubernetes.io/job-completion-index"]
		seen[idx]++
		if !strings.HasPrefix(p.Name, "idx-"+idx+"-") {
			t.Errorf("pod %s has index %s", p.Name, idx)
		}
		if out := d.cli("logs", p.Name); strings.TrimSpace(out) != "index="+idx {
			t.Errorf("pod %s (index %s) printed %q", p.Name, idx, out)
		}
	}
	if len(pods) != 3 || seen["0"] != 1 || seen["1"] != 1 || seen["2"] != 1 {
		t.Errorf("indexes %v over %d pods, want 0, 1 and 2 once each", seen, len(pods))
	}
}
