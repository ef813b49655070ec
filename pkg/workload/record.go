package workload

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/manifest"
)

// Record is what minilet keeps of one workload across daemon restarts.
// The pods it lists are the ones the controller wants: the Manager hands
// exactly these to the pod manager.
type Record struct {
	// Object is the workload as last read from its file: kept so that a
	// file that turns bad while the daemon is down still has its workload
	// run (as a bad file keeps its pods).
	Object  manifest.Workload
	UID     types.UID
	Created time.Time
	// Generation counts the changes of the workload's spec (1 at first).
	Generation int64
	SpecHash   string

	// ReplicaSets of a Deployment (oldest revision first), or the one of
	// a ReplicaSet.
	ReplicaSets    []ReplicaSetRecord `json:",omitempty"`
	CollisionCount *int32             `json:",omitempty"`
	// Deployment progress: when the rollout last moved, and its
	// conditions.
	LastProgress time.Time                    `json:",omitzero"`
	Conditions   []appsv1.DeploymentCondition `json:",omitempty"`

	Job *JobRecord `json:",omitempty"`
	// RestartedAt is the time of the last `minilet rollout restart`: the
	// kubectl.kubernetes.io/restartedAt annotation it puts on the pod
	// template (the file stays as written).
	RestartedAt string `json:",omitempty"`
	// Deleted: the workload's file is gone; the record stays only until
	// the data of its claims is removed (StatefulSet retention policy
	// Delete).
	Deleted bool `json:",omitempty"`
	// Cron is a CronJob's schedule state and its Jobs.
	Cron *CronRecord `json:",omitempty"`
	// Set is a StatefulSet's or DaemonSet's revisions and pods.
	Set *SetRecord `json:",omitempty"`
}

// CronRecord is a CronJob's progress: when it last ran and the Jobs it
// made, each a Record of its own.
type CronRecord struct {
	LastScheduleTime   *time.Time `json:",omitempty"`
	LastSuccessfulTime *time.Time `json:",omitempty"`
	Jobs               []Record   `json:",omitempty"`
	// Missed counts the scheduled times that passed without a Job: while
	// minilet was down (only the most recent is run), past
	// startingDeadlineSeconds, or skipped by concurrencyPolicy Forbid.
	Missed int64 `json:",omitempty"`
	// Forbidden is the due time last held back by concurrencyPolicy
	// Forbid (its event is recorded once).
	Forbidden *time.Time `json:",omitempty"`
	// Seen names the finished Jobs already reported (SawCompletedJob).
	Seen []string `json:",omitempty"`
	// Manual holds the names of Jobs asked for by `minilet create job
	// --from=cronjob/NAME` and not made yet.
	Manual []string `json:",omitempty"`
}

// SetRecord is what a StatefulSet or a DaemonSet keeps: its revisions
// (ControllerRevisions), its pods, and a StatefulSet's claims.
type SetRecord struct {
	Revisions      []RevisionRecord
	CollisionCount *int32 `json:",omitempty"`
	// CurrentRevision is the revision every pod had when the last update
	// finished.
	CurrentRevision string `json:",omitempty"`
	Pods            []v1.Pod
	// Claims made for the StatefulSet's pods, by name, kept as the
	// retention policy says; ClaimsToDelete are claims whose data is
	// removed once no pod mounts them (retention policy Delete).
	Claims         []string `json:",omitempty"`
	ClaimsToDelete []string `json:",omitempty"`
	// Failures and LastFailure: a DaemonSet's failed pods, replaced after
	// a back-off.
	Failures    int32     `json:",omitempty"`
	LastFailure time.Time `json:",omitzero"`
}

// RevisionRecord is one ControllerRevision: a template and its number.
type RevisionRecord struct {
	Name     string // <set>-<hash>, the controller-revision-hash label
	Revision int64
	Template v1.PodTemplateSpec
}

// ReplicaSetRecord is one ReplicaSet and the pods it made.
type ReplicaSetRecord struct {
	Name     string
	UID      types.UID
	Created  time.Time
	Revision int64
	// Hash is the pod-template-hash; Template the template without it.
	Hash     string
	Template v1.PodTemplateSpec
	Replicas int32
	Pods     []v1.Pod
	// Failures counts pods that failed and were replaced since a pod of
	// this ReplicaSet last ran; a failed pod is replaced after the Job
	// controller's back-off (LastFailure), so a pod the node refuses is not
	// recreated in a hot loop.
	Failures    int32     `json:",omitempty"`
	LastFailure time.Time `json:",omitzero"`
}

// JobRecord is a Job's progress.
type JobRecord struct {
	StartTime      *time.Time `json:",omitempty"`
	CompletionTime *time.Time `json:",omitempty"`
	Succeeded      int32
	Failed         int32
	// Counted holds the UIDs of finished pods already counted, so a pod is
	// counted once, across restarts too.
	Counted map[types.UID]bool `json:",omitempty"`
	// SucceededIndexes of an Indexed Job.
	SucceededIndexes []int `json:",omitempty"`
	// FailuresSinceSuccess and LastFailure drive the back-off between
	// failed pods.
	FailuresSinceSuccess int32                  `json:",omitempty"`
	LastFailure          time.Time              `json:",omitzero"`
	Conditions           []batchv1.JobCondition `json:",omitempty"`
	Pods                 []v1.Pod
	// Gone is set when ttlSecondsAfterFinished has passed: the Job and its
	// pods are deleted while its file stays (remove or change the file to
	// run it again).
	Gone bool `json:",omitempty"`
}

// key names a workload as Workload.Key does.
func (r *Record) key() string { return r.Object.Key() }

// pods lists every pod the record wants.
func (r *Record) pods() []v1.Pod {
	var out []v1.Pod
	for _, rs := range r.ReplicaSets {
		out = append(out, rs.Pods...)
	}
	if r.Job != nil {
		out = append(out, r.Job.Pods...)
	}
	if r.Set != nil {
		out = append(out, r.Set.Pods...)
	}
	if r.Cron != nil {
		for i := range r.Cron.Jobs {
			out = append(out, r.Cron.Jobs[i].pods()...)
		}
	}
	return out
}
