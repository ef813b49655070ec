package metrics

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkloadLister is the workload controllers' view (pkg/workload's
// Manager implements it).
type WorkloadLister interface {
	Deployments() []appsv1.Deployment
	ReplicaSets() []appsv1.ReplicaSet
	StatefulSets() []appsv1.StatefulSet
	DaemonSets() []appsv1.DaemonSet
	Jobs() []batchv1.Job
	// CronMissed counts, by namespace/name, the scheduled times each
	// CronJob passed without a Job.
	CronMissed() map[string]int64
}

// workloadCollector builds the workload gauges at scrape time, as the pod
// collector does: a workload that is gone has no series.
type workloadCollector struct {
	src      WorkloadLister
	replicas *prometheus.Desc
	jobPods  *prometheus.Desc
	missed   *prometheus.Desc
}

// RegisterWorkloads registers the workload gauges read from src.
func RegisterWorkloads(reg prometheus.Registerer, src WorkloadLister) error {
	c := &workloadCollector{
		src: src,
		replicas: prometheus.NewDesc(prometheus.BuildFQName(namespace, "workload", "replicas"),
			"Replicas of the Deployments, ReplicaSets, StatefulSets and DaemonSets from manifest files: desired (spec.replicas; a DaemonSet's is 1 when this node fits it), and the pods that are updated (of the newest template), ready and available.",
			[]string{"kind", "namespace", "name", "state"}, nil),
		jobPods: prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "pods"),
			"Pods of the Jobs from manifest files: active, and finished ones counted as succeeded or failed (status.succeeded, status.failed).",
			[]string{"namespace", "name", "result"}, nil),
		missed: prometheus.NewDesc(prometheus.BuildFQName(namespace, "cronjob", "missed_schedules_total"),
			"Scheduled times of a CronJob that passed without a Job: while minilet was down (only the most recent is run, as the CronJob controller does), or past startingDeadlineSeconds.",
			[]string{"namespace", "name"}, nil),
	}
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("register workload metrics collector: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *workloadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.replicas
	ch <- c.jobPods
	ch <- c.missed
}

// Collect implements prometheus.Collector.
func (c *workloadCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v int32, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	// replicas reports one workload's desired, updated, ready and
	// available counts.
	replicas := func(kind string, m metav1.ObjectMeta, desired, updated, ready, available int32) {
		for state, v := range map[string]int32{"desired": desired, "updated": updated, "ready": ready, "available": available} {
			gauge(c.replicas, v, kind, m.Namespace, m.Name, state)
		}
	}
	for _, d := range c.src.Deployments() {
		s := d.Status
		replicas("Deployment", d.ObjectMeta, *d.Spec.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
	}
	for _, r := range c.src.ReplicaSets() {
		if metav1.GetControllerOf(&r) != nil {
			continue // counted with its Deployment
		}
		s := r.Status
		replicas("ReplicaSet", r.ObjectMeta, *r.Spec.Replicas, s.Replicas, s.ReadyReplicas, s.AvailableReplicas)
	}
	for _, ss := range c.src.StatefulSets() {
		s := ss.Status
		replicas("StatefulSet", ss.ObjectMeta, *ss.Spec.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
	}
	for _, ds := range c.src.DaemonSets() {
		s := ds.Status
		replicas("DaemonSet", ds.ObjectMeta, s.DesiredNumberScheduled, s.UpdatedNumberScheduled, s.NumberReady, s.NumberAvailable)
	}
	for key, n := range c.src.CronMissed() {
		ns, name, _ := strings.Cut(key, "/")
		ch <- prometheus.MustNewConstMetric(c.missed, prometheus.CounterValue, float64(n), ns, name)
	}
	for _, j := range c.src.Jobs() {
		gauge(c.jobPods, j.Status.Active, j.Namespace, j.Name, "active")
		gauge(c.jobPods, j.Status.Succeeded, j.Namespace, j.Name, "succeeded")
		gauge(c.jobPods, j.Status.Failed, j.Namespace, j.Name, "failed")
	}
}
