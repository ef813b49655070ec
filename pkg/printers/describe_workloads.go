package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// DescribeDeployment writes a Deployment as `kubectl describe
// deployment`; rss are its ReplicaSets, events its controller's.
func DescribeDeployment(w io.Writer, d *appsv1.Deployment, rss []appsv1.ReplicaSet, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	describeWorkloadMeta(pw, d.ObjectMeta, d.Spec.Selector)
	s := d.Status
	pw.write(level0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable\n",
		*d.Spec.Replicas, s.UpdatedReplicas, s.Replicas, s.AvailableReplicas, s.UnavailableReplicas)
	pw.write(level0, "StrategyType:\t%s\n", d.Spec.Strategy.Type)
	pw.write(level0, "MinReadySeconds:\t%d\n", d.Spec.MinReadySeconds)
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		pw.write(level0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", ru.MaxUnavailable.String(), ru.MaxSurge.String())
	}
	describeTemplate(pw, &d.Spec.Template)
	if len(s.Conditions) > 0 {
		pw.write(level0, "Conditions:\n  Type\tStatus\tReason\n")
		pw.write(level1, "----\t------\t------\n")
		for _, c := range s.Conditions {
			pw.write(level1, "%s\t%s\t%s\n", c.Type, c.Status, c.Reason)
		}
	}
	newRS := ""
	var old []string
	for _, rs := range rss {
		desc := fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, *rs.Spec.Replicas)
		if rs.Annotations["deployment.kubernetes.io/revision"] == d.Annotations["deployment.kubernetes.io/revision"] {
			newRS = desc
		} else if rs.Status.Replicas > 0 || *rs.Spec.Replicas > 0 {
			old = append(old, desc)
		}
	}
	if len(old) == 0 {
		old = []string{"<none>"}
	}
	if newRS == "" {
		newRS = "<none>"
	}
	pw.write(level0, "OldReplicaSets:\t%s\n", strings.Join(old, ", "))
	pw.write(level0, "NewReplicaSet:\t%s\n", newRS)
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}

// DescribeReplicaSet writes a ReplicaSet as `kubectl describe
// replicaset`; pods are its pods.
func DescribeReplicaSet(w io.Writer, r *appsv1.ReplicaSet, pods []v1.Pod, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	describeWorkloadMeta(pw, r.ObjectMeta, r.Spec.Selector)
	if c := metav1.GetControllerOf(r); c != nil {
		pw.write(level0, "Controlled By:\t%s/%s\n", c.Kind, c.Name)
	}
	pw.write(level0, "Replicas:\t%d current / %d desired\n", r.Status.Replicas, *r.Spec.Replicas)
	pw.write(level0, "Pods Status:\t%s\n", podsStatus(pods))
	describeTemplate(pw, &r.Spec.Template)
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}

// DescribeJob writes a Job as `kubectl describe job`.
func DescribeJob(w io.Writer, j *batchv1.Job, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	describeWorkloadMeta(pw, j.ObjectMeta, j.Spec.Selector)
	if j.Spec.Parallelism != nil {
		pw.write(level0, "Parallelism:\t%d\n", *j.Spec.Parallelism)
	}
	if j.Spec.Completions != nil {
		pw.write(level0, "Completions:\t%d\n", *j.Spec.Completions)
	} else {
		pw.write(level0, "Completions:\t<unset>\n")
	}
	if j.Spec.CompletionMode != nil {
		pw.write(level0, "Completion Mode:\t%s\n", *j.Spec.CompletionMode)
	}
	if j.Spec.Suspend != nil {
		pw.write(level0, "Suspend:\t%t\n", *j.Spec.Suspend)
	}
	if j.Spec.BackoffLimit != nil {
		pw.write(level0, "Backoff Limit:\t%d\n", *j.Spec.BackoffLimit)
	}
	if j.Spec.TTLSecondsAfterFinished != nil {
		pw.write(level0, "TTL Seconds After Finished:\t%d\n", *j.Spec.TTLSecondsAfterFinished)
	}
	if t := j.Status.StartTime; t != nil {
		pw.write(level0, "Start Time:\t%s\n", t.Time.Format(time.RFC1123Z))
	}
	if t := j.Status.CompletionTime; t != nil {
		pw.write(level0, "Completed At:\t%s\n", t.Time.Format(time.RFC1123Z))
		if j.Status.StartTime != nil {
			pw.write(level0, "Duration:\t%s\n", duration.HumanDuration(t.Sub(j.Status.StartTime.Time)))
		}
	}
	if d := j.Spec.ActiveDeadlineSeconds; d != nil {
		pw.write(level0, "Active Deadline Seconds:\t%ds\n", *d)
	}
	ready := int32(0)
	if j.Status.Ready != nil {
		ready = *j.Status.Ready
	}
	pw.write(level0, "Pods Statuses:\t%d Active (%d Ready) / %d Succeeded / %d Failed\n", j.Status.Active, ready, j.Status.Succeeded, j.Status.Failed)
	if j.Status.CompletedIndexes != "" {
		pw.write(level0, "Completed Indexes:\t%s\n", j.Status.CompletedIndexes)
	}
	describeTemplate(pw, &j.Spec.Template)
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}

func describeWorkloadMeta(pw *prefixWriter, m metav1.ObjectMeta, sel *metav1.LabelSelector) {
	pw.write(level0, "Name:\t%s\n", m.Name)
	pw.write(level0, "Namespace:\t%s\n", m.Namespace)
	pw.write(level0, "CreationTimestamp:\t%s\n", m.CreationTimestamp.Time.Format(time.RFC1123Z))
	writeLabels(pw, "Labels", m.Labels)
	writeAnnotations(pw, "Annotations", m.Annotations)
	selector := "<none>"
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
		selector = s.String()
	}
	pw.write(level0, "Selector:\t%s\n", selector)
}

// describeTemplate writes the Pod Template section: labels, containers
// with image, command, args, ports and env names.
func describeTemplate(pw *prefixWriter, t *v1.PodTemplateSpec) {
	pw.write(level0, "Pod Template:\n")
	pw.flush()
	pw.write(level1, "Labels:\t%s\n", strings.Join(labelPairs(t.Labels), "\n    \t"))
	pw.write(level1, "Containers:\n")
	for _, c := range t.Spec.Containers {
		pw.write(level1, " %s:\n", c.Name)
		pw.write(level2, "Image:\t%s\n", c.Image)
		if len(c.Command) > 0 {
			pw.write(level2, "Command:\t%s\n", strings.Join(c.Command, " "))
		}
		if len(c.Args) > 0 {
			pw.write(level2, "Args:\t%s\n", strings.Join(c.Args, " "))
		}
		for _, p := range c.Ports {
			pw.write(level2, "Port:\t%d/%s\n", p.ContainerPort, p.Protocol)
		}
		if len(c.Env) > 0 {
			names := make([]string, 0, len(c.Env))
			for _, e := range c.Env {
				names = append(names, e.Name)
			}
			pw.write(level2, "Environment:\t%s\n", strings.Join(names, ", "))
		}
	}
	pw.flush()
}

func labelPairs(m map[string]string) []string {
	if len(m) == 0 {
		return []string{"<none>"}
	}
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// podsStatus is "1 Running / 2 Waiting / 0 Succeeded / 0 Failed".
func podsStatus(pods []v1.Pod) string {
	var running, waiting, succeeded, failed int
	for _, p := range pods {
		switch p.Status.Phase {
		case v1.PodRunning:
			running++
		case v1.PodSucceeded:
			succeeded++
		case v1.PodFailed:
			failed++
		default:
			waiting++
		}
	}
	return fmt.Sprintf("%d Running / %d Waiting / %d Succeeded / %d Failed", running, waiting, succeeded, failed)
}

// DescribeStatefulSet writes a StatefulSet as `kubectl describe
// statefulset`; pods are its pods.
func DescribeStatefulSet(w io.Writer, s *appsv1.StatefulSet, pods []v1.Pod, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	describeWorkloadMeta(pw, s.ObjectMeta, s.Spec.Selector)
	pw.write(level0, "Replicas:\t%d desired | %d total\n", *s.Spec.Replicas, s.Status.Replicas)
	pw.write(level0, "Update Strategy:\t%s\n", s.Spec.UpdateStrategy.Type)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		pw.write(level1, "Partition:\t%d\n", *ru.Partition)
	}
	pw.write(level0, "Pods Status:\t%s\n", podsStatus(pods))
	describeTemplate(pw, &s.Spec.Template)
	pw.write(level0, "Volume Claims:\n")
	if len(s.Spec.VolumeClaimTemplates) == 0 {
		pw.write(level1, "<none>\n")
	}
	for _, c := range s.Spec.VolumeClaimTemplates {
		pw.write(level1, "Name:\t%s\n", c.Name)
		if q, ok := c.Spec.Resources.Requests[v1.ResourceStorage]; ok {
			pw.write(level1, "Capacity:\t%s\n", q.String())
		}
		var modes []string
		for _, m := range c.Spec.AccessModes {
			modes = append(modes, string(m))
		}
		pw.write(level1, "Access Modes:\t%s\n", strings.Join(modes, ","))
	}
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}

// DescribeDaemonSet writes a DaemonSet as `kubectl describe daemonset`.
func DescribeDaemonSet(w io.Writer, d *appsv1.DaemonSet, pods []v1.Pod, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	describeWorkloadMeta(pw, d.ObjectMeta, d.Spec.Selector)
	sel := "<none>"
	if ns := d.Spec.Template.Spec.NodeSelector; len(ns) > 0 {
		sel = strings.Join(labelPairs(ns), ",")
	}
	pw.write(level0, "Node-Selector:\t%s\n", sel)
	s := d.Status
	pw.write(level0, "Desired Number of Nodes Scheduled: %d\n", s.DesiredNumberScheduled)
	pw.write(level0, "Current Number of Nodes Scheduled: %d\n", s.CurrentNumberScheduled)
	pw.write(level0, "Number of Nodes Scheduled with Up-to-date Pods: %d\n", s.UpdatedNumberScheduled)
	pw.write(level0, "Number of Nodes Scheduled with Available Pods: %d\n", s.NumberAvailable)
	pw.write(level0, "Number of Nodes Misscheduled: %d\n", s.NumberMisscheduled)
	pw.write(level0, "Pods Status:\t%s\n", podsStatus(pods))
	describeTemplate(pw, &d.Spec.Template)
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}

// DescribeCronJob writes a CronJob as `kubectl describe cronjob`.
func DescribeCronJob(w io.Writer, c *batchv1.CronJob, events []v1.Event, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", c.Name)
	pw.write(level0, "Namespace:\t%s\n", c.Namespace)
	writeLabels(pw, "Labels", c.Labels)
	writeAnnotations(pw, "Annotations", c.Annotations)
	pw.write(level0, "Schedule:\t%s\n", c.Spec.Schedule)
	if c.Spec.TimeZone != nil {
		pw.write(level0, "Time Zone:\t%s\n", *c.Spec.TimeZone)
	}
	pw.write(level0, "Concurrency Policy:\t%s\n", c.Spec.ConcurrencyPolicy)
	if c.Spec.Suspend != nil {
		pw.write(level0, "Suspend:\t%t\n", *c.Spec.Suspend)
	}
	pw.write(level0, "Successful Job History Limit:\t%d\n", *c.Spec.SuccessfulJobsHistoryLimit)
	pw.write(level0, "Failed Job History Limit:\t%d\n", *c.Spec.FailedJobsHistoryLimit)
	if d := c.Spec.StartingDeadlineSeconds; d != nil {
		pw.write(level0, "Starting Deadline Seconds:\t%ds\n", *d)
	} else {
		pw.write(level0, "Starting Deadline Seconds:\t<unset>\n")
	}
	describeTemplate(pw, &c.Spec.JobTemplate.Spec.Template)
	last := "<unset>"
	if t := c.Status.LastScheduleTime; t != nil {
		last = t.Time.Format(time.RFC1123Z)
	}
	pw.write(level0, "Last Schedule Time:\t%s\n", last)
	var active []string
	for _, a := range c.Status.Active {
		active = append(active, a.Name)
	}
	if len(active) == 0 {
		active = []string{"<none>"}
	}
	pw.write(level0, "Active Jobs:\t%s\n", strings.Join(active, ", "))
	describeEvents(pw, events, now)
	pw.flush()
	return pw.err
}
