package manifest

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Workload is one Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or
// CronJob
// from a manifest file:
// something a controller turns into pods (pkg/workload). Exactly one kind
// is set.
type Workload struct {
	File string // absolute path of the file it came from
	// Hash is 32 hex characters of the workload's content (its canonical
	// JSON): a changed workload has a new hash.
	Hash        string
	Deployment  *appsv1.Deployment
	ReplicaSet  *appsv1.ReplicaSet
	StatefulSet *appsv1.StatefulSet
	DaemonSet   *appsv1.DaemonSet
	Job         *batchv1.Job
	CronJob     *batchv1.CronJob
}

// Kinds of Workload.
const (
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindJob         = "Job"
	KindCronJob     = "CronJob"
)

// Kind is the workload's kind.
func (w Workload) Kind() string {
	switch {
	case w.Deployment != nil:
		return KindDeployment
	case w.ReplicaSet != nil:
		return KindReplicaSet
	case w.StatefulSet != nil:
		return KindStatefulSet
	case w.DaemonSet != nil:
		return KindDaemonSet
	case w.CronJob != nil:
		return KindCronJob
	}
	return KindJob
}

// Meta is the workload's metadata.
func (w Workload) Meta() *metav1.ObjectMeta {
	switch {
	case w.Deployment != nil:
		return &w.Deployment.ObjectMeta
	case w.ReplicaSet != nil:
		return &w.ReplicaSet.ObjectMeta
	case w.StatefulSet != nil:
		return &w.StatefulSet.ObjectMeta
	case w.DaemonSet != nil:
		return &w.DaemonSet.ObjectMeta
	case w.CronJob != nil:
		return &w.CronJob.ObjectMeta
	}
	return &w.Job.ObjectMeta
}

// Key is "<kind> <namespace>/<name>", unique in a State.
func (w Workload) Key() string {
	m := w.Meta()
	return w.Kind() + " " + m.Namespace + "/" + m.Name
}

// DeepCopy copies the workload, so a receiver owns what it gets.
func (w Workload) DeepCopy() Workload {
	switch {
	case w.Deployment != nil:
		w.Deployment = w.Deployment.DeepCopy()
	case w.ReplicaSet != nil:
		w.ReplicaSet = w.ReplicaSet.DeepCopy()
	case w.StatefulSet != nil:
		w.StatefulSet = w.StatefulSet.DeepCopy()
	case w.DaemonSet != nil:
		w.DaemonSet = w.DaemonSet.DeepCopy()
	case w.CronJob != nil:
		w.CronJob = w.CronJob.DeepCopy()
	default:
		w.Job = w.Job.DeepCopy()
	}
	return w
}
