package printers

import (
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// PrintDeployments writes Deployments as `kubectl get deployments`: NAME
// READY UP-TO-DATE AVAILABLE AGE (CONTAINERS IMAGES SELECTOR for
// FormatWide).
func PrintDeployments(w io.Writer, items []appsv1.Deployment, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "deployment.apps", func(d *appsv1.Deployment) string { return d.Name },
		func(d appsv1.Deployment) appsv1.Deployment {
			d.TypeMeta = metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}
			return d
		},
		func() error {
			head := []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}
			rows := make([][]string, 0, len(items))
			for i := range items {
				d := &items[i]
				row := objectRow(d.ObjectMeta, opts, now,
					fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, *d.Spec.Replicas),
					fmt.Sprint(d.Status.UpdatedReplicas), fmt.Sprint(d.Status.AvailableReplicas))
				rows = append(rows, wideTemplate(row, opts, &d.Spec.Template, d.Spec.Selector))
			}
			return writeTable(w, opts, wideHead(head, opts), rows)
		})
}

// PrintReplicaSets writes ReplicaSets as `kubectl get replicasets`: NAME
// DESIRED CURRENT READY AGE.
func PrintReplicaSets(w io.Writer, items []appsv1.ReplicaSet, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "replicaset.apps", func(r *appsv1.ReplicaSet) string { return r.Name },
		func(r appsv1.ReplicaSet) appsv1.ReplicaSet {
			r.TypeMeta = metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"}
			return r
		},
		func() error {
			head := []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}
			rows := make([][]string, 0, len(items))
			for i := range items {
				r := &items[i]
				row := objectRow(r.ObjectMeta, opts, now, fmt.Sprint(*r.Spec.Replicas), fmt.Sprint(r.Status.Replicas), fmt.Sprint(r.Status.ReadyReplicas))
				rows = append(rows, wideTemplate(row, opts, &r.Spec.Template, r.Spec.Selector))
			}
			return writeTable(w, opts, wideHead(head, opts), rows)
		})
}

// PrintJobs writes Jobs as `kubectl get jobs`: NAME STATUS COMPLETIONS
// DURATION AGE.
func PrintJobs(w io.Writer, items []batchv1.Job, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "job.batch", func(j *batchv1.Job) string { return j.Name },
		func(j batchv1.Job) batchv1.Job {
			j.TypeMeta = metav1.TypeMeta{Kind: "Job", APIVersion: "batch/v1"}
			return j
		},
		func() error {
			head := []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}
			rows := make([][]string, 0, len(items))
			for i := range items {
				j := &items[i]
				row := objectRow(j.ObjectMeta, opts, now, JobStatus(j), jobCompletions(j), jobDuration(j, now))
				rows = append(rows, wideTemplate(row, opts, &j.Spec.Template, j.Spec.Selector))
			}
			return writeTable(w, opts, wideHead(head, opts), rows)
		})
}

// JobStatus is kubectl's STATUS column of a Job.
func JobStatus(j *batchv1.Job) string {
	has := func(t batchv1.JobConditionType) bool {
		for _, c := range j.Status.Conditions {
			if c.Type == t && c.Status == v1.ConditionTrue {
				return true
			}
		}
		return false
	}
	switch {
	case has(batchv1.JobFailed):
		return "Failed"
	case has(batchv1.JobComplete):
		return "Complete"
	case has(batchv1.JobSuspended):
		return "Suspended"
	case has(batchv1.JobFailureTarget):
		return "FailureTarget"
	case has(batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	case j.Status.Terminating != nil && *j.Status.Terminating > 0:
		return "Terminating"
	}
	return "Running"
}

func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	parallelism := int32(0)
	if j.Spec.Parallelism != nil {
		parallelism = *j.Spec.Parallelism
	}
	if parallelism > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDuration(j *batchv1.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

func wideHead(head []string, opts Options) []string {
	if opts.Format != FormatWide {
		return head
	}
	return append(head, "CONTAINERS", "IMAGES", "SELECTOR")
}

// wideTemplate adds the template's containers, images and the selector
// for FormatWide (before LABELS).
func wideTemplate(row []string, opts Options, t *v1.PodTemplateSpec, sel *metav1.LabelSelector) []string {
	if opts.Format != FormatWide {
		return row
	}
	selector := "<none>"
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
		selector = s.String()
	}
	names, images := templateColumns(t)
	for _, col := range []string{names, images, selector} {
		row = insertBeforeLabels(row, opts, col)
	}
	return row
}

// templateColumns are the CONTAINERS and IMAGES columns of a template.
func templateColumns(t *v1.PodTemplateSpec) (string, string) {
	var names, images []string
	for _, c := range t.Spec.Containers {
		names, images = append(names, c.Name), append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// PrintStatefulSets writes StatefulSets as `kubectl get statefulsets`:
// NAME READY AGE (CONTAINERS IMAGES for FormatWide).
func PrintStatefulSets(w io.Writer, items []appsv1.StatefulSet, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "statefulset.apps", func(s *appsv1.StatefulSet) string { return s.Name },
		func(s appsv1.StatefulSet) appsv1.StatefulSet {
			s.TypeMeta = metav1.TypeMeta{Kind: "StatefulSet", APIVersion: "apps/v1"}
			return s
		},
		func() error {
			head := []string{"NAME", "READY", "AGE"}
			if opts.Format == FormatWide {
				head = append(head, "CONTAINERS", "IMAGES")
			}
			rows := make([][]string, 0, len(items))
			for i := range items {
				s := &items[i]
				row := objectRow(s.ObjectMeta, opts, now, fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, *s.Spec.Replicas))
				if opts.Format == FormatWide {
					names, images := templateColumns(&s.Spec.Template)
					row = insertBeforeLabels(insertBeforeLabels(row, opts, names), opts, images)
				}
				rows = append(rows, row)
			}
			return writeTable(w, opts, head, rows)
		})
}

// PrintDaemonSets writes DaemonSets as `kubectl get daemonsets`: NAME
// DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE.
func PrintDaemonSets(w io.Writer, items []appsv1.DaemonSet, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "daemonset.apps", func(d *appsv1.DaemonSet) string { return d.Name },
		func(d appsv1.DaemonSet) appsv1.DaemonSet {
			d.TypeMeta = metav1.TypeMeta{Kind: "DaemonSet", APIVersion: "apps/v1"}
			return d
		},
		func() error {
			head := []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"}
			rows := make([][]string, 0, len(items))
			for i := range items {
				d := &items[i]
				s := d.Status
				sel := "<none>"
				if len(d.Spec.Template.Spec.NodeSelector) > 0 {
					var parts []string
					for _, k := range sortedKeys(d.Spec.Template.Spec.NodeSelector) {
						parts = append(parts, k+"="+d.Spec.Template.Spec.NodeSelector[k])
					}
					sel = strings.Join(parts, ",")
				}
				row := objectRow(d.ObjectMeta, opts, now, fmt.Sprint(s.DesiredNumberScheduled), fmt.Sprint(s.CurrentNumberScheduled),
					fmt.Sprint(s.NumberReady), fmt.Sprint(s.UpdatedNumberScheduled), fmt.Sprint(s.NumberAvailable), sel)
				rows = append(rows, wideTemplate(row, opts, &d.Spec.Template, d.Spec.Selector))
			}
			return writeTable(w, opts, wideHead(head, opts), rows)
		})
}

// PrintCronJobs writes CronJobs as `kubectl get cronjobs`: NAME SCHEDULE
// TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE.
func PrintCronJobs(w io.Writer, items []batchv1.CronJob, opts Options, now time.Time) error {
	return printObjects(w, items, opts, "cronjob.batch", func(c *batchv1.CronJob) string { return c.Name },
		func(c batchv1.CronJob) batchv1.CronJob {
			c.TypeMeta = metav1.TypeMeta{Kind: "CronJob", APIVersion: "batch/v1"}
			return c
		},
		func() error {
			head := []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}
			rows := make([][]string, 0, len(items))
			for i := range items {
				c := &items[i]
				tz, last := "<none>", "<none>"
				if c.Spec.TimeZone != nil {
					tz = *c.Spec.TimeZone
				}
				if c.Status.LastScheduleTime != nil {
					last = Age(*c.Status.LastScheduleTime, now)
				}
				suspend := "False"
				if c.Spec.Suspend != nil && *c.Spec.Suspend {
					suspend = "True"
				}
				row := objectRow(c.ObjectMeta, opts, now, c.Spec.Schedule, tz, suspend, fmt.Sprint(len(c.Status.Active)), last)
				rows = append(rows, wideTemplate(row, opts, &c.Spec.JobTemplate.Spec.Template, c.Spec.JobTemplate.Spec.Selector))
			}
			return writeTable(w, opts, wideHead(head, opts), rows)
		})
}
