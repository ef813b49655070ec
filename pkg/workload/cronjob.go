package workload

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/robfig/cron/v3"

	"github.com/minilet/minilet/pkg/cronschedule"
	"github.com/minilet/minilet/pkg/manifest"
)

// scheduledTimestampAnnotation is set on a CronJob's Jobs: the time they
// were scheduled for.
const scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// syncCronJob is one pass of the CronJob controller (syncCronJob): its
// Jobs run (each by the Job controller), finished ones are reported and
// trimmed to the history limits, and a Job is made when a scheduled time
// is due: the most recent one missed, none older than
// startingDeadlineSeconds, as concurrencyPolicy allows.
func syncCronJob(cj *batchv1.CronJob, rec *Record, obs Observed, e *env) result {
	var res result
	if rec.Cron == nil {
		rec.Cron = &CronRecord{}
	}
	cr := rec.Cron
	for i := range cr.Jobs {
		child := &cr.Jobs[i]
		r := syncJob(child.Object.Job, child, obs, e)
		res.events = append(res.events, r.events...)
		if r.wake > 0 {
			res.wakeIn(r.wake)
		}
	}
	// Report finished Jobs once, and keep the history limits.
	var succeeded, failed, active []int
	for i := range cr.Jobs {
		child := &cr.Jobs[i]
		c := finishedCondition(child.Job)
		if c == nil {
			active = append(active, i)
			continue
		}
		if !containsString(cr.Seen, child.Object.Job.Name) {
			cr.Seen = append(cr.Seen, child.Object.Job.Name)
			res.event(v1.EventTypeNormal, "CronJob", cj.Name, "SawCompletedJob", "Saw completed job: %s, condition: %s", child.Object.Job.Name, c.Type)
			if c.Type == batchv1.JobComplete && child.Job.CompletionTime != nil {
				if t := *child.Job.CompletionTime; cr.LastSuccessfulTime == nil || t.After(*cr.LastSuccessfulTime) {
					cr.LastSuccessfulTime = &t
				}
			}
		}
		if c.Type == batchv1.JobComplete {
			succeeded = append(succeeded, i)
		} else {
			failed = append(failed, i)
		}
	}
	drop := map[int]bool{}
	trim := func(idx []int, limit int32) {
		sort.Slice(idx, func(a, b int) bool { return cr.Jobs[idx[a]].Created.Before(cr.Jobs[idx[b]].Created) })
		for n := 0; n < len(idx)-int(limit); n++ {
			drop[idx[n]] = true
			res.event(v1.EventTypeNormal, "CronJob", cj.Name, "SuccessfulDelete", "Deleted job %s", cr.Jobs[idx[n]].Object.Job.Name)
		}
	}
	trim(succeeded, *cj.Spec.SuccessfulJobsHistoryLimit)
	trim(failed, *cj.Spec.FailedJobsHistoryLimit)

	// Jobs asked for by hand run whatever the schedule.
	for _, name := range cr.Manual {
		if !cr.hasJob(name) {
			cr.Jobs = append(cr.Jobs, newCronChild(cj, rec, name, nil, e))
			res.event(v1.EventTypeNormal, "CronJob", cj.Name, "SuccessfulCreate", "Created job %s", name)
			res.wakeIn(time.Millisecond) // the new Job's controller runs at the next pass
		}
	}
	cr.Manual = nil

	tz := ""
	if cj.Spec.TimeZone != nil {
		tz = *cj.Spec.TimeZone
	}
	sched, err := cronschedule.Parse(cj.Spec.Schedule, tz)
	switch {
	case err != nil:
		res.event(v1.EventTypeWarning, "CronJob", cj.Name, "UnparseableSchedule", "unparseable schedule: %q : %v", cj.Spec.Schedule, err)
	case *cj.Spec.Suspend:
	default:
		var deadline *time.Duration
		if d := cj.Spec.StartingDeadlineSeconds; d != nil {
			dd := time.Duration(*d) * time.Second
			deadline = &dd
		}
		due, err := cronschedule.Decide(sched, cronschedule.State{Created: rec.Created, LastSchedule: cr.LastScheduleTime, StartingDeadline: deadline}, e.now)
		if err != nil {
			res.event(v1.EventTypeWarning, "CronJob", cj.Name, "InvalidSchedule", "invalid schedule: %s : %v", cj.Spec.Schedule, err)
			break
		}
		if !due.Next.IsZero() {
			res.wakeIn(due.Next.Sub(e.now))
		}
		if due.Run == nil {
			break
		}
		if due.TooMany {
			res.event(v1.EventTypeWarning, "CronJob", cj.Name, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
		}
		name := fmt.Sprintf("%s-%d", cj.Name, due.Run.Unix()/60)
		if cr.hasJob(name) {
			cr.LastScheduleTime = due.Run
			break
		}
		running := 0
		for _, i := range active {
			if !drop[i] {
				running++
			}
		}
		switch cj.Spec.ConcurrencyPolicy {
		case batchv1.ForbidConcurrent:
			if running > 0 {
				// As the controller: the time stays due, and runs when the
				// active Job finishes, if startingDeadlineSeconds allows.
				if cr.Forbidden == nil || !cr.Forbidden.Equal(*due.Run) {
					res.event(v1.EventTypeNormal, "CronJob", cj.Name, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
					cr.Forbidden = due.Run
				}
				goto done
			}
		case batchv1.ReplaceConcurrent:
			for _, i := range active {
				drop[i] = true
				res.event(v1.EventTypeNormal, "CronJob", cj.Name, "SuccessfulDelete", "Deleted job %s", cr.Jobs[i].Object.Job.Name)
			}
		}
		cr.Jobs = append(cr.Jobs, newCronChild(cj, rec, name, due.Run, e))
		cr.Missed += missedBefore(sched, rec.Created, cr.LastScheduleTime, *due.Run)
		cr.LastScheduleTime = due.Run
		res.event(v1.EventTypeNormal, "CronJob", cj.Name, "SuccessfulCreate", "Created job %s", name)
		res.wakeIn(time.Millisecond) // the new Job's controller runs at the next pass
	}
done:
	if len(drop) > 0 {
		var keep []Record
		for i, c := range cr.Jobs {
			if !drop[i] {
				keep = append(keep, c)
			}
		}
		cr.Jobs = keep
	}
	// Forget reports of Jobs that are gone.
	var seen []string
	for _, n := range cr.Seen {
		if cr.hasJob(n) {
			seen = append(seen, n)
		}
	}
	cr.Seen = seen
	return res
}

// newCronChild makes the record of a Job of the CronJob, from its
// jobTemplate (scheduled nil: made by hand).
func newCronChild(cj *batchv1.CronJob, rec *Record, name string, scheduled *time.Time, e *env) Record {
	t := cj.Spec.JobTemplate
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cj.Namespace, Labels: map[string]string{}, Annotations: map[string]string{},
			OwnerReferences: []metav1.OwnerReference{controllerRef("batch/v1", "CronJob", cj.Name, rec.UID)}},
		Spec: *t.Spec.DeepCopy(),
	}
	for k, v := range t.Labels {
		job.Labels[k] = v
	}
	for k, v := range t.Annotations {
		job.Annotations[k] = v
	}
	if scheduled != nil {
		job.Annotations[scheduledTimestampAnnotation] = scheduled.UTC().Format(time.RFC3339)
	} else {
		job.Annotations["cronjob.kubernetes.io/instantiate"] = "manual"
	}
	return Record{Object: manifest.Workload{File: rec.Object.File, Job: job}, UID: e.uid(), Created: e.now.Truncate(time.Second), Generation: 1}
}

func (cr *CronRecord) hasJob(name string) bool {
	for _, c := range cr.Jobs {
		if c.Object.Job.Name == name {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// missedBefore counts the scheduled times after the last run (or the
// CronJob's creation) and before run: they passed without a Job (at most
// 1000 are counted).
func missedBefore(s cron.Schedule, created time.Time, last *time.Time, run time.Time) int64 {
	from := created
	if last != nil {
		from = *last
	}
	n := int64(0)
	for t := s.Next(from); !t.IsZero() && t.Before(run) && n < 1000; t = s.Next(t) {
		n++
	}
	return n
}
