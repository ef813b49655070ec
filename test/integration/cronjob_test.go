package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// TestCronJobRuns: a `* * * * *` CronJob makes a Job at the next minute,
// named <cronjob>-<minutes since the epoch>, which completes; `create job
// --from=cronjob/...` runs one at once.
func TestCronJobRuns(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("tick.yaml", fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  timeZone: Etc/UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          terminationGracePeriodSeconds: 0
          containers: [{name: tick, image: %s, command: [sh, -c, "echo tick"]}]
`, BusyboxImage))
	d.eventually(30*time.Second, "the CronJob is listed", func() error {
		_, err := d.cliErr("get", "cj", "tick")
		return err
	})
	if out := d.cli("create", "job", "by-hand", "--from=cronjob/tick"); !strings.Contains(out, "job.batch/by-hand created") {
		t.Errorf("create job: %q", out)
	}
	complete := func(name string) func() error {
		return func() error {
			j, err := d.job(name)
			if err != nil {
				return err
			}
			if jobCondition(j, batchv1.JobComplete) == nil {
				return fmt.Errorf("status %+v", j.Status)
			}
			return nil
		}
	}
	d.eventually(60*time.Second, "the Job made by hand completes", complete("by-hand"))
	j, _ := d.job("by-hand")
	if c := j.OwnerReferences; len(c) != 1 || c[0].Kind != "CronJob" || c[0].Name != "tick" || j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		t.Errorf("Job by-hand: owner %+v annotations %v", c, j.Annotations)
	}

	var scheduled string
	d.eventually(80*time.Second, "a scheduled Job completes", func() error {
		list, err := d.Client.Jobs(t.Context(), "default")
		if err != nil {
			return err
		}
		for _, j := range list.Items {
			if ts, ok := j.Annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]; ok {
				at, err := time.Parse(time.RFC3339, ts)
				if err != nil || j.Name != fmt.Sprintf("tick-%d", at.Unix()/60) || at.Second() != 0 {
					return fmt.Errorf("job %s scheduled at %q", j.Name, ts)
				}
				scheduled = j.Name
				return complete(j.Name)()
			}
		}
		return fmt.Errorf("no scheduled Job yet")
	})
	list, err := d.Client.CronJobs(t.Context(), "default")
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("%v %v", err, list)
	}
	cj := list.Items[0]
	if cj.Status.LastScheduleTime == nil || cj.Status.LastSuccessfulTime == nil {
		t.Errorf("status %+v", cj.Status)
	}
	if out := d.cli("get", "cj"); !regexpMatch(`(?m)^tick\s+\* \* \* \* \*\s+Etc/UTC\s+False\s+\d\s+\S+\s+\S+$`, out) {
		t.Errorf("get cj:\n%s", out)
	}
	evs, _ := d.Client.WorkloadEvents(t.Context(), "cronjobs", "default", "tick")
	if s := eventSummary(evs.Items); !strings.Contains(s, "Created job "+scheduled) || !strings.Contains(s, "SawCompletedJob") {
		t.Errorf("events: %s", s)
	}
}
