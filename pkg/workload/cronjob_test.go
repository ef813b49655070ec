package workload

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cronJob(schedule string, policy batchv1.ConcurrencyPolicy, deadline *int64) *batchv1.CronJob {
	j := job(1, 1, 0)
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: schedule, TimeZone: ptrTo("UTC"), ConcurrencyPolicy: policy, Suspend: ptrTo(false),
			StartingDeadlineSeconds: deadline, SuccessfulJobsHistoryLimit: ptrTo(int32(3)), FailedJobsHistoryLimit: ptrTo(int32(1)),
			JobTemplate: batchv1.JobTemplateSpec{Spec: j.Spec}},
	}
}

// jobsOf lists the names of the CronJob's Jobs.
func jobsOf(rec *Record) []string {
	var out []string
	for _, c := range rec.Cron.Jobs {
		out = append(out, c.Object.Job.Name)
	}
	return out
}

// finishCron marks every pod of every Job with phase.
func finishCron(rec *Record, phase v1.PodPhase) Observed {
	obs := Observed{}
	for _, p := range rec.pods() {
		p.Status.Phase = phase
		obs[p.UID] = p
	}
	return obs
}

func TestCronJob(t *testing.T) {
	created := time.Date(2026, 12, 3, 10, 0, 30, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		policy   batchv1.ConcurrencyPolicy
		deadline *int64
		// steps: at each time, the first Job's pods finish (or not)
		steps []struct {
			at     time.Duration // after created
			finish bool
		}
		wantJobs []string
		missed   int64
	}{
		{name: "one run a minute", policy: batchv1.AllowConcurrent,
			steps: []struct {
				at     time.Duration
				finish bool
			}{{0, false}, {40 * time.Second, true}, {100 * time.Second, true}},
			wantJobs: []string{"tick-29938201", "tick-29938202"}},
		{name: "down for 10 minutes: only the most recent runs", policy: batchv1.AllowConcurrent,
			steps: []struct {
				at     time.Duration
				finish bool
			}{{0, false}, {10*time.Minute + 10*time.Second, false}},
			wantJobs: []string{"tick-29938210"}, missed: 9},
		{name: "down, past the starting deadline: nothing runs", policy: batchv1.AllowConcurrent, deadline: ptrTo(int64(5)),
			steps: []struct {
				at     time.Duration
				finish bool
			}{{0, false}, {10*time.Minute + 10*time.Second, false}},
			wantJobs: nil},
		{name: "forbid while one runs", policy: batchv1.ForbidConcurrent,
			steps: []struct {
				at     time.Duration
				finish bool
			}{{40 * time.Second, false}, {100 * time.Second, false}, {110 * time.Second, true}, {115 * time.Second, true}},
			// 10:01 runs; 10:02 waits while it runs, then runs once it is done.
			wantJobs: []string{"tick-29938201", "tick-29938202"}},
		{name: "replace the one that runs", policy: batchv1.ReplaceConcurrent,
			steps: []struct {
				at     time.Duration
				finish bool
			}{{40 * time.Second, false}, {100 * time.Second, false}},
			wantJobs: []string{"tick-29938202"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := cronJob("* * * * *", tc.policy, tc.deadline)
			rec := &Record{UID: "cj-uid", Created: created}
			e := testEnv(created)
			for _, s := range tc.steps {
				e.now = created.Add(s.at)
				obs := Observed{}
				if rec.Cron != nil {
					obs = finishCron(rec, v1.PodRunning)
					if s.finish {
						obs = finishCron(rec, v1.PodSucceeded)
					}
				}
				syncCronJob(cj, rec, obs, e)
				if s.finish {
					syncCronJob(cj, rec, finishCron(rec, v1.PodSucceeded), e)
				}
			}
			got := []string(nil)
			if rec.Cron != nil {
				got = jobsOf(rec)
			}
			if len(got) != len(tc.wantJobs) {
				t.Fatalf("jobs %v, want %v", got, tc.wantJobs)
			}
			for i := range got {
				if got[i] != tc.wantJobs[i] {
					t.Fatalf("jobs %v, want %v", got, tc.wantJobs)
				}
			}
			if rec.Cron != nil && rec.Cron.Missed != tc.missed {
				t.Errorf("missed %d, want %d", rec.Cron.Missed, tc.missed)
			}
		})
	}
}
