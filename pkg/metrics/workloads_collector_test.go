package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type workloadList struct {
	deps []appsv1.Deployment
	rss  []appsv1.ReplicaSet
	jobs []batchv1.Job
}

func (l workloadList) Deployments() []appsv1.Deployment { return l.deps }
func (l workloadList) ReplicaSets() []appsv1.ReplicaSet { return l.rss }
func (l workloadList) Jobs() []batchv1.Job              { return l.jobs }
func (l workloadList) StatefulSets() []appsv1.StatefulSet {
	return []appsv1.StatefulSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"}, Spec: appsv1.StatefulSetSpec{Replicas: ptr32(2)},
		Status: appsv1.StatefulSetStatus{UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1}}}
}
func (l workloadList) DaemonSets() []appsv1.DaemonSet { return nil }
func (l workloadList) CronMissed() map[string]int64   { return map[string]int64{"default/nightly": 2} }

func ptr32(v int32) *int32 { return &v }

// TestWorkloadCollector: a Deployment's replicas by state, a Deployment's
// ReplicaSet not counted twice, a Job's pods; lint-clean.
func TestWorkloadCollector(t *testing.T) {
	three, one := int32(3), int32(1)
	yes := true
	l := workloadList{
		deps: []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:   appsv1.DeploymentSpec{Replicas: &three},
			Status: appsv1.DeploymentStatus{UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 2}}},
		rss: []appsv1.ReplicaSet{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-abc", OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: &yes}}}, Spec: appsv1.ReplicaSetSpec{Replicas: &three}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "solo"}, Spec: appsv1.ReplicaSetSpec{Replicas: &one}, Status: appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}},
		},
		jobs: []batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "batch"}, Status: batchv1.JobStatus{Active: 2, Succeeded: 3, Failed: 1}}},
	}
	reg := prometheus.NewPedanticRegistry()
	if err := RegisterWorkloads(reg, l); err != nil {
		t.Fatal(err)
	}
	want := `# HELP minilet_cronjob_missed_schedules_total Scheduled times of a CronJob that passed without a Job: while minilet was down (only the most recent is run, as the CronJob controller does), or past startingDeadlineSeconds.
# TYPE minilet_cronjob_missed_schedules_total counter
minilet_cronjob_missed_schedules_total{name="nightly",namespace="default"} 2
# HELP minilet_job_pods Pods of the Jobs from manifest files: active, and finished ones counted as succeeded or failed (status.succeeded, status.failed).
# TYPE minilet_job_pods gauge
minilet_job_pods{name="batch",namespace="default",result="active"} 2
minilet_job_pods{name="batch",namespace="default",result="failed"} 1
minilet_job_pods{name="batch",namespace="default",result="succeeded"} 3
# HELP minilet_workload_replicas Replicas of the Deployments, ReplicaSets, StatefulSets and DaemonSets from manifest files: desired (spec.replicas; a DaemonSet's is 1 when this node fits it), and the pods that are updated (of the newest template), ready and available.
# TYPE minilet_workload_replicas gauge
minilet_workload_replicas{kind="Deployment",name="web",namespace="default",state="available"} 2
minilet_workload_replicas{kind="Deployment",name="web",namespace="default",state="desired"} 3
minilet_workload_replicas{kind="Deployment",name="web",namespace="default",state="ready"} 3
minilet_workload_replicas{kind="Deployment",name="web",namespace="default",state="updated"} 1
minilet_workload_replicas{kind="ReplicaSet",name="solo",namespace="default",state="available"} 1
minilet_workload_replicas{kind="ReplicaSet",name="solo",namespace="default",state="desired"} 1
minilet_workload_replicas{kind="ReplicaSet",name="solo",namespace="default",state="ready"} 1
minilet_workload_replicas{kind="ReplicaSet",name="solo",namespace="default",state="updated"} 1
minilet_workload_replicas{kind="StatefulSet",name="db",namespace="default",state="available"} 1
minilet_workload_replicas{kind="StatefulSet",name="db",namespace="default",state="desired"} 2
minilet_workload_replicas{kind="StatefulSet",name="db",namespace="default",state="ready"} 1
minilet_workload_replicas{kind="StatefulSet",name="db",namespace="default",state="updated"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
