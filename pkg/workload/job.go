package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/jobpolicy"
)

// Labels and annotations the Job controller puts on its pods.
const (
	jobNameLabel        = "batch.kubernetes.io/job-name"
	jobUIDLabel         = "batch.kubernetes.io/controller-uid"
	legacyJobNameLabel  = "job-name"
	legacyJobUIDLabel   = "controller-uid"
	completionIndexKey  = "batch.kubernetes.io/job-completion-index"
	completionIndexEnv  = "JOB_COMPLETION_INDEX"
	reasonBackoffLimit  = "BackoffLimitExceeded"
	reasonDeadline      = "DeadlineExceeded"
	reasonFailurePolicy = "PodFailurePolicy"
)

// jobSelectorLabels are the labels the API server puts in a Job's
// generated selector and template.
func jobSelectorLabels(job *batchv1.Job, uid types.UID) map[string]string {
	return map[string]string{
		jobUIDLabel: string(uid), jobNameLabel: job.Name,
		legacyJobUIDLabel: string(uid), legacyJobNameLabel: job.Name,
	}
}

// syncJob is one pass of the Job controller (manageJob) over rec: it
// counts pods that finished (each once), decides whether the Job is
// complete or failed, deletes the active pods of a finished or suspended
// Job, and otherwise makes pods up to parallelism, after the back-off
// when pods failed.
func syncJob(job *batchv1.Job, rec *Record, obs Observed, e *env) result {
	var res result
	jr := rec.Job
	if jr == nil {
		jr = &JobRecord{}
		rec.Job = jr
	}
	if jr.Counted == nil {
		jr.Counted = map[types.UID]bool{}
	}
	if jr.Gone {
		return res
	}
	s := &job.Spec
	indexed := *s.CompletionMode == batchv1.IndexedCompletion

	// Count what finished.
	var active []view
	restarts := int32(0)
	for _, p := range jr.Pods {
		v := obs.view(p)
		restarts += v.restarts
		switch {
		case !v.finished():
			active = append(active, v)
		case jr.Counted[p.UID]:
		case v.phase == v1.PodSucceeded:
			jr.Counted[p.UID] = true
			if indexed {
				if i, ok := podIndex(&p); ok && !containsInt(jr.SucceededIndexes, i) {
					jr.SucceededIndexes = append(jr.SucceededIndexes, i)
					sort.Ints(jr.SucceededIndexes)
				}
			}
			jr.Succeeded++
			jr.FailuresSinceSuccess = 0
		default:
			jr.Counted[p.UID] = true
			verdict := jobpolicy.Judge(s.PodFailurePolicy, &v.pod)
			if verdict.FailJob != "" && finishedCondition(jr) == nil {
				failJob(job, jr, reasonFailurePolicy, verdict.FailJob, e, &res)
			}
			if verdict.Counts {
				jr.Failed++
				jr.FailuresSinceSuccess++
				jr.LastFailure = e.now
			}
		}
	}

	if finishedCondition(jr) == nil && !*s.Suspend {
		if jr.StartTime == nil {
			t := e.now
			jr.StartTime = &t
		}
		rule := -1
		if indexed {
			rule = jobpolicy.SuccessRule(s.SuccessPolicy, jr.SucceededIndexes, *s.Completions)
		}
		switch {
		case rule >= 0:
			t := e.now
			jr.CompletionTime = &t
			msg := fmt.Sprintf("Matched rules at index %d", rule)
			setJobCondition(jr, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, msg, e.now)
			setJobCondition(jr, batchv1.JobComplete, batchv1.JobReasonSuccessPolicy, msg, e.now)
			res.event(v1.EventTypeNormal, "Job", job.Name, "Completed", "Job completed")
		case jobComplete(job, jr, len(active)):
			t := e.now
			jr.CompletionTime = &t
			setJobCondition(jr, batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods", e.now)
			setJobCondition(jr, batchv1.JobComplete, "CompletionsReached", "Reached expected number of succeeded pods", e.now)
			res.event(v1.EventTypeNormal, "Job", job.Name, "Completed", "Job completed")
		case jr.Failed > *s.BackoffLimit || pastBackoffLimitOnFailure(job, restarts):
			failJob(job, jr, reasonBackoffLimit, "Job has reached the specified backoff limit", e, &res)
		case s.ActiveDeadlineSeconds != nil:
			deadline := jr.StartTime.Add(time.Duration(*s.ActiveDeadlineSeconds) * time.Second)
			if !e.now.Before(deadline) {
				failJob(job, jr, reasonDeadline, "Job was active longer than specified deadline", e, &res)
			} else {
				res.wakeIn(deadline.Sub(e.now))
			}
		}
	}

	// A finished or suspended Job runs no pod.
	var want []view
	switch {
	case obs.unknown(jr.Pods):
		// Act once every pod's status is known: a finished pod taken for
		// a running one would have a running pod deleted, or one too
		// few made.
		want = active
	case finishedCondition(jr) != nil, *s.Suspend:
		for _, v := range active {
			res.event(v1.EventTypeNormal, "Job", job.Name, "SuccessfulDelete", "Deleted pod: %s", v.pod.Name)
		}
		if *s.Suspend && finishedCondition(jr) == nil && len(active) > 0 {
			res.event(v1.EventTypeNormal, "Job", job.Name, "Suspended", "Job suspended")
		}
		if *s.Suspend {
			setJobCondition(jr, batchv1.JobSuspended, "JobSuspended", "Job suspended", e.now)
		}
	default:
		if c := jobCondition(jr, batchv1.JobSuspended); c != nil && c.Status == v1.ConditionTrue {
			c.Status, c.Reason, c.Message = v1.ConditionFalse, "JobResumed", "Job resumed"
			c.LastTransitionTime, c.LastProbeTime = metav1.NewTime(e.now), metav1.NewTime(e.now)
			res.event(v1.EventTypeNormal, "Job", job.Name, "Resumed", "Job resumed")
		}
		want = manageJobPods(job, rec, active, e, &res)
	}
	// The record keeps the active pods it wants and every finished pod
	// (they stay, as on a cluster, until the Job goes).
	var keep []v1.Pod
	wanted := map[types.UID]bool{}
	for _, v := range want {
		wanted[v.pod.UID] = true
	}
	for _, p := range jr.Pods {
		if obs.view(p).finished() || wanted[p.UID] {
			keep = append(keep, p)
			delete(wanted, p.UID)
		}
	}
	for _, v := range want {
		if wanted[v.pod.UID] { // new
			p := v.pod
			p.Status = v1.PodStatus{}
			keep = append(keep, p)
		}
	}
	jr.Pods = keep

	if c := finishedCondition(jr); c != nil && job.Spec.TTLSecondsAfterFinished != nil {
		end := c.LastTransitionTime.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second)
		if !e.now.Before(end) {
			jr.Gone, jr.Pods = true, nil
			res.event(v1.EventTypeNormal, "Job", job.Name, "Deleted", "Job deleted %ds after it finished (ttlSecondsAfterFinished); its file stays: change or remove it to run the Job again", *job.Spec.TTLSecondsAfterFinished)
		} else {
			res.wakeIn(end.Sub(e.now))
		}
	}
	return res
}

// manageJobPods decides the active pods of a running Job: up to
// parallelism (and no more than the completions left), making new ones
// after the back-off; the extra ones are deleted.
func manageJobPods(job *batchv1.Job, rec *Record, active []view, e *env, res *result) []view {
	s := &job.Spec
	jr := rec.Job
	parallelism := int(*s.Parallelism)
	indexed := *s.CompletionMode == batchv1.IndexedCompletion
	wantActive := parallelism
	var pendingIdx []int
	switch {
	case indexed:
		running := map[int]bool{}
		for _, v := range active {
			if i, ok := podIndex(&v.pod); ok {
				running[i] = true
			}
		}
		for i := 0; i < int(*s.Completions); i++ {
			if !containsInt(jr.SucceededIndexes, i) && !running[i] {
				pendingIdx = append(pendingIdx, i)
			}
		}
		wantActive = min(parallelism, len(active)+len(pendingIdx))
	case s.Completions != nil:
		wantActive = min(parallelism, int(*s.Completions-jr.Succeeded))
	case jr.Succeeded > 0:
		wantActive = 0 // a work queue: once one pod succeeded, no new pod
	}
	if len(active) > wantActive {
		sort.SliceStable(active, func(i, j int) bool { return lessValuable(active[i], active[j]) })
		for _, v := range active[:len(active)-wantActive] {
			res.event(v1.EventTypeNormal, "Job", job.Name, "SuccessfulDelete", "Deleted pod: %s", v.pod.Name)
		}
		return active[len(active)-wantActive:]
	}
	missing := wantActive - len(active)
	if missing > 0 && jr.FailuresSinceSuccess > 0 {
		if d := jobpolicy.Backoff(jr.FailuresSinceSuccess, jr.LastFailure, e.now); d > 0 {
			res.wakeIn(d)
			return active
		}
	}
	owner := controllerRef("batch/v1", "Job", job.Name, rec.UID)
	for n := 0; n < missing; n++ {
		labels := jobSelectorLabels(job, rec.UID)
		var annotations map[string]string
		prefix := job.Name + "-"
		tmpl := &s.Template
		if indexed {
			i := pendingIdx[n]
			labels[completionIndexKey] = strconv.Itoa(i)
			annotations = map[string]string{completionIndexKey: strconv.Itoa(i)}
			prefix = fmt.Sprintf("%s-%d-", job.Name, i)
			tmpl = withIndexEnv(tmpl)
		}
		p := podFromTemplate(tmpl, job.Namespace, prefix, e, owner, labels, annotations)
		active = append(active, view{pod: p, phase: v1.PodPending})
		res.event(v1.EventTypeNormal, "Job", job.Name, "SuccessfulCreate", "Created pod: %s", p.Name)
	}
	return active
}

// withIndexEnv adds JOB_COMPLETION_INDEX to every container, from the
// pod's annotation, as the Job controller does.
func withIndexEnv(t *v1.PodTemplateSpec) *v1.PodTemplateSpec {
	t = t.DeepCopy()
	env := v1.EnvVar{Name: completionIndexEnv, ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{
		APIVersion: "v1", FieldPath: fmt.Sprintf("metadata.annotations['%s']", completionIndexKey)}}}
	for _, cs := range []*[]v1.Container{&t.Spec.InitContainers, &t.Spec.Containers} {
		for i := range *cs {
			c := &(*cs)[i]
			c.Env = append([]v1.EnvVar{env}, c.Env...)
		}
	}
	return t
}

// pastBackoffLimitOnFailure: with restartPolicy OnFailure the containers'
// restarts count towards backoffLimit, as the controller counts them.
func pastBackoffLimitOnFailure(job *batchv1.Job, restarts int32) bool {
	if job.Spec.Template.Spec.RestartPolicy != v1.RestartPolicyOnFailure {
		return false
	}
	if bl := *job.Spec.BackoffLimit; bl > 0 {
		return restarts >= bl
	}
	return restarts > 0
}

func jobComplete(job *batchv1.Job, jr *JobRecord, active int) bool {
	s := &job.Spec
	switch {
	case *s.CompletionMode == batchv1.IndexedCompletion:
		return len(jr.SucceededIndexes) >= int(*s.Completions)
	case s.Completions != nil:
		return jr.Succeeded >= *s.Completions
	}
	return jr.Succeeded > 0 && active == 0
}

func failJob(job *batchv1.Job, jr *JobRecord, reason, msg string, e *env, res *result) {
	setJobCondition(jr, batchv1.JobFailureTarget, reason, msg, e.now)
	setJobCondition(jr, batchv1.JobFailed, reason, msg, e.now)
	res.event(v1.EventTypeWarning, "Job", job.Name, reason, "%s", msg)
}

// finishedCondition is the Job's Complete or Failed condition (nil while
// it runs).
func finishedCondition(jr *JobRecord) *batchv1.JobCondition {
	for i := range jr.Conditions {
		c := &jr.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == v1.ConditionTrue {
			return c
		}
	}
	return nil
}

func jobCondition(jr *JobRecord, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range jr.Conditions {
		if jr.Conditions[i].Type == t {
			return &jr.Conditions[i]
		}
	}
	return nil
}

func setJobCondition(jr *JobRecord, t batchv1.JobConditionType, reason, msg string, now time.Time) {
	c := jobCondition(jr, t)
	if c != nil && c.Status == v1.ConditionTrue {
		return
	}
	if c == nil {
		jr.Conditions = append(jr.Conditions, batchv1.JobCondition{Type: t})
		c = &jr.Conditions[len(jr.Conditions)-1]
	}
	c.Status, c.Reason, c.Message = v1.ConditionTrue, reason, msg
	c.LastProbeTime, c.LastTransitionTime = metav1.NewTime(now), metav1.NewTime(now)
}

// podIndex is the completion index of an Indexed Job's pod.
func podIndex(p *v1.Pod) (int, bool) {
	s, ok := p.Annotations[completionIndexKey]
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// formatIndexes writes indexes as the Job status does: "1,3-5,7".
func formatIndexes(idx []int) string {
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
