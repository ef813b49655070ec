package workload

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// testEnv gives names and UIDs in sequence.
func testEnv(now time.Time) *env {
	n := 0
	return &env{
		now:  now,
		name: func(prefix string) string { n++; return fmt.Sprintf("%s%05d", prefix, n) },
		uid:  func() types.UID { n++; return types.UID(fmt.Sprintf("uid-%d", n)) },
	}
}

func template(image string) v1.PodTemplateSpec {
	return v1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       v1.PodSpec{RestartPolicy: v1.RestartPolicyAlways, Containers: []v1.Container{{Name: "app", Image: image}}},
	}
}

func deployment(image string, replicas int32, surge, unavailable int) *appsv1.Deployment {
	s, u := intstr.FromInt(surge), intstr.FromInt(unavailable)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template(image),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}},
			RevisionHistoryLimit: ptrTo(int32(10)), ProgressDeadlineSeconds: ptrTo(int32(600)),
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

// runAll marks every pod of rec running and ready since at.
func runAll(rec *Record, at time.Time) Observed {
	obs := Observed{}
	for _, p := range rec.pods() {
		p.Status = v1.PodStatus{Phase: v1.PodRunning, Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}}
		obs[p.UID] = p
	}
	return obs
}

// TestDeploymentRollsOutWithinBounds: a rolling update with maxSurge 1 and
// maxUnavailable 0 never has more than replicas+1 pods nor fewer than
// replicas available, and ends with the new ReplicaSet only.
func TestDeploymentRollsOutWithinBounds(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e := testEnv(now)
	rec := &Record{UID: "d-uid"}
	d := deployment("v1", 3, 1, 0)
	for range 3 {
		syncDeployment(d, rec, runAll(rec, now), e)
	}
	if n := len(rec.pods()); n != 3 || len(rec.ReplicaSets) != 1 {
		t.Fatalf("%d pods in %d ReplicaSets, want 3 in 1", n, len(rec.ReplicaSets))
	}
	first := rec.ReplicaSets[0].Name
	d = deployment("v2", 3, 1, 0)
	born := map[types.UID]int{} // step a pod was first seen
	for _, p := range rec.pods() {
		born[p.UID] = -1
	}
	for step := 0; step < 20; step++ {
		obs := runAll(rec, now.Add(-time.Minute))
		// A pod is ready from the step after it was made.
		for uid, p := range obs {
			if _, ok := born[uid]; !ok {
				born[uid] = step
			}
			if born[uid] == step {
				p.Status.Conditions = nil
				obs[uid] = p
			}
		}
		syncDeployment(d, rec, obs, e)
		total, available := 0, 0
		for _, p := range rec.pods() {
			total++
			if v := obs.view(p); v.available(0, now) {
				available++
			}
		}
		if total > 4 {
			t.Fatalf("step %d: %d pods, more than replicas + maxSurge", step, total)
		}
		if available < 3 {
			t.Fatalf("step %d: %d available, fewer than replicas - maxUnavailable", step, available)
		}
	}
	for _, rs := range rec.ReplicaSets {
		if rs.Name == first && (rs.Replicas != 0 || len(rs.Pods) != 0) {
			t.Errorf("old ReplicaSet %s keeps %d replicas, %d pods", rs.Name, rs.Replicas, len(rs.Pods))
		}
		if rs.Name != first && (rs.Replicas != 3 || len(rs.Pods) != 3 || rs.Revision != 2) {
			t.Errorf("new ReplicaSet %s: %d replicas, %d pods, revision %d", rs.Name, rs.Replicas, len(rs.Pods), rs.Revision)
		}
	}
}

// TestDeploymentWaitsForUnknownPods: after a restart, before the pod
// manager knows its pods' status, the controller makes and deletes
// nothing.
func TestDeploymentWaitsForUnknownPods(t *testing.T) {
	now := time.Now()
	e := testEnv(now)
	rec := &Record{UID: "d-uid"}
	d := deployment("v1", 3, 1, 0)
	syncDeployment(d, rec, Observed{}, e)
	before := podNames(rec)
	for range 3 {
		syncDeployment(d, rec, Observed{}, e)
	}
	if after := podNames(rec); after != before {
		t.Errorf("pods changed while their status was unknown: %s → %s", before, after)
	}
}

func podNames(rec *Record) string {
	var s string
	for _, p := range rec.pods() {
		s += p.Name + " "
	}
	return s
}

// TestDeploymentProgressDeadline: a rollout that does not move for
// progressDeadlineSeconds turns Progressing False ProgressDeadlineExceeded.
func TestDeploymentProgressDeadline(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e := testEnv(now)
	rec := &Record{UID: "d-uid"}
	d := deployment("v1", 1, 1, 0)
	d.Spec.ProgressDeadlineSeconds = ptrTo(int32(30))
	syncDeployment(d, rec, Observed{}, e)
	notReady := func() Observed {
		obs := Observed{}
		for _, p := range rec.pods() {
			p.Status.Phase = v1.PodRunning
			obs[p.UID] = p
		}
		return obs
	}
	res := syncDeployment(d, rec, notReady(), e)
	if c := deployCondition(rec, appsv1.DeploymentProgressing); c == nil || c.Status != v1.ConditionTrue {
		t.Fatalf("Progressing %+v", c)
	}
	if res.wake <= 0 || res.wake > 30*time.Second {
		t.Errorf("wake %v, want the deadline within 30 s", res.wake)
	}
	e.now = now.Add(31 * time.Second)
	syncDeployment(d, rec, notReady(), e)
	if c := deployCondition(rec, appsv1.DeploymentProgressing); c == nil || c.Status != v1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
		t.Fatalf("Progressing %+v, want False ProgressDeadlineExceeded", c)
	}
}

func job(completions, parallelism, backoff int32) *batchv1.Job {
	mode := batchv1.NonIndexedCompletion
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "batch", Namespace: "default"},
		Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism, BackoffLimit: &backoff,
			CompletionMode: &mode, Suspend: ptrTo(false),
			Template: v1.PodTemplateSpec{Spec: v1.PodSpec{RestartPolicy: v1.RestartPolicyNever, Containers: []v1.Container{{Name: "w", Image: "busybox"}}}}},
	}
}

// finishAll marks the record's pods finished with phase.
func finishAll(rec *Record, phase v1.PodPhase) Observed {
	obs := Observed{}
	for _, p := range rec.pods() {
		p.Status.Phase = phase
		obs[p.UID] = p
	}
	return obs
}

// TestJobCountsEachPodOnce: completions 5, parallelism 2: never more than
// 2 active, each success counted once even when seen in many passes, and
// Complete at 5.
func TestJobCountsEachPodOnce(t *testing.T) {
	now := time.Now()
	e := testEnv(now)
	rec := &Record{UID: "j-uid"}
	j := job(5, 2, 6)
	syncJob(j, rec, Observed{}, e)
	for step := 0; step < 10 && finishedCondition(rec.Job) == nil; step++ {
		active := 0
		for _, p := range rec.Job.Pods {
			if !rec.Job.Counted[p.UID] {
				active++
			}
		}
		if active > 2 {
			t.Fatalf("step %d: %d active pods", step, active)
		}
		obs := finishAll(rec, v1.PodSucceeded)
		syncJob(j, rec, obs, e)
		syncJob(j, rec, obs, e) // seen again: not counted again
	}
	if c := finishedCondition(rec.Job); c == nil || c.Type != batchv1.JobComplete || rec.Job.Succeeded != 5 || len(rec.Job.Pods) != 5 {
		t.Fatalf("condition %+v, succeeded %d, %d pods", c, rec.Job.Succeeded, len(rec.Job.Pods))
	}
}

// TestJobBackoff: a failed pod is replaced only after the back-off, and
// backoffLimit+1 failures fail the Job.
func TestJobBackoff(t *testing.T) {
	now := time.Now()
	e := testEnv(now)
	rec := &Record{UID: "j-uid"}
	j := job(1, 1, 1)
	syncJob(j, rec, Observed{}, e)
	res := syncJob(j, rec, finishAll(rec, v1.PodFailed), e)
	if len(rec.Job.Pods) != 1 || res.wake < 9*time.Second {
		t.Fatalf("after one failure: %d pods, wake %v; want the failed pod only and a ~10 s wake", len(rec.Job.Pods), res.wake)
	}
	e.now = now.Add(11 * time.Second)
	syncJob(j, rec, finishAll(rec, v1.PodFailed), e)
	if len(rec.Job.Pods) != 2 {
		t.Fatalf("after the back-off: %d pods, want a new one", len(rec.Job.Pods))
	}
	syncJob(j, rec, finishAll(rec, v1.PodFailed), e)
	if c := finishedCondition(rec.Job); c == nil || c.Type != batchv1.JobFailed || c.Reason != "BackoffLimitExceeded" || rec.Job.Failed != 2 {
		t.Fatalf("condition %+v, failed %d", c, rec.Job.Failed)
	}
}

func TestFormatIndexes(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{{nil, ""}, {[]int{0}, "0"}, {[]int{0, 1, 2}, "0-2"}, {[]int{1, 3, 4, 5, 7}, "1,3-5,7"}} {
		if got := formatIndexes(tc.in); got != tc.want {
			t.Errorf("formatIndexes(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestJobSuccessPolicy: an Indexed Job whose rule is "index 0 succeeded"
// completes when the leader does, and its other pods are deleted.
func TestJobSuccessPolicy(t *testing.T) {
	e := testEnv(time.Now())
	rec := &Record{UID: "j-uid"}
	j := job(3, 3, 6)
	mode := batchv1.IndexedCompletion
	j.Spec.CompletionMode = &mode
	leader := "0"
	j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: &leader}}}
	syncJob(j, rec, Observed{}, e)
	if len(rec.Job.Pods) != 3 {
		t.Fatalf("%d pods, want 3", len(rec.Job.Pods))
	}
	obs := Observed{}
	for _, p := range rec.Job.Pods {
		p.Status.Phase = v1.PodRunning
		if p.Annotations["batch.kubernetes.io/job-completion-index"] == "0" {
			p.Status.Phase = v1.PodSucceeded
		}
		obs[p.UID] = p
	}
	syncJob(j, rec, obs, e)
	c := finishedCondition(rec.Job)
	if c == nil || c.Type != batchv1.JobComplete || c.Reason != "SuccessPolicy" {
		t.Fatalf("condition %+v", c)
	}
	if len(rec.Job.Pods) != 1 {
		t.Errorf("%d pods kept, want the leader only", len(rec.Job.Pods))
	}
}

// TestDeploymentHostPortReplacesOneAtATime: pods with a hostPort never
// surge (two cannot hold the port), and a new pod is made only once the
// old one it replaces is gone, not while it stops.
func TestDeploymentHostPortReplacesOneAtATime(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e := testEnv(now)
	rec := &Record{UID: "d-uid"}
	d := deployment("v1", 2, 1, 0)
	d.Spec.Template.Spec.Containers[0].Ports = []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
	for range 3 {
		syncDeployment(d, rec, runAll(rec, now.Add(-time.Minute)), e)
	}
	d2 := deployment("v2", 2, 1, 0)
	d2.Spec.Template.Spec.Containers[0].Ports = d.Spec.Template.Spec.Containers[0].Ports
	var stopping []v1.Pod // pods deleted by the last pass, still stopping
	sawEvent := false
	for step := 0; step < 12; step++ {
		obs := runAll(rec, now.Add(-time.Minute))
		for _, p := range stopping {
			p.DeletionTimestamp = &metav1.Time{Time: now}
			obs[p.UID+"-old"] = p
		}
		before := map[types.UID]v1.Pod{}
		for _, p := range rec.pods() {
			before[p.UID] = p
		}
		res := syncDeployment(d2, rec, obs, e)
		for _, ev := range res.events {
			sawEvent = sawEvent || ev.Reason == "HostPortSurge"
		}
		if n := len(rec.pods()); n > 2 {
			t.Fatalf("step %d: %d pods, more than replicas: two would hold the host port", step, n)
		}
		made := false
		for _, p := range rec.pods() {
			if _, ok := before[p.UID]; !ok {
				made = true
			}
		}
		if made && len(stopping) > 0 {
			t.Fatalf("step %d: a new pod was made while %s still stops", step, stopping[0].Name)
		}
		// What this pass deleted stops during the next one, then is gone.
		stopping = nil
		for uid, p := range before {
			found := false
			for _, q := range rec.pods() {
				found = found || q.UID == uid
			}
			if !found {
				stopping = append(stopping, p)
			}
		}
	}
	if !sawEvent {
		t.Error("no HostPortSurge event")
	}
	for _, p := range rec.pods() {
		if p.Labels[podTemplateHashLabel] == rec.ReplicaSets[0].Hash && rec.ReplicaSets[0].Template.Spec.Containers[0].Image == "v1" {
			t.Errorf("pod %s still of v1 after the rollout", p.Name)
		}
	}
}

// TestDaemonSetTaints: as the DaemonSet controller, an untolerated
// NoSchedule taint keeps a new daemon pod from being made but leaves a
// running one; NoExecute removes it; the controller's own tolerations let
// it run on a cordoned node.
func TestDaemonSetTaints(t *testing.T) {
	now := time.Now()
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Template: template("agent:1"), RevisionHistoryLimit: ptrTo(int32(10)), UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}}}
	nodeWith := func(taints ...v1.Taint) *v1.Node {
		return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: v1.NodeSpec{Taints: taints}}
	}
	noSched := v1.Taint{Key: "dedicated", Value: "ml", Effect: v1.TaintEffectNoSchedule}
	noExec := v1.Taint{Key: "maint", Effect: v1.TaintEffectNoExecute}
	cordon := v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}

	rec := &Record{UID: "ds-uid"}
	syncDaemonSet(ds, rec, Observed{}, nodeWith(noSched), "n1", testEnv(now))
	if len(rec.Set.Pods) != 0 {
		t.Fatalf("a pod was made on a node whose NoSchedule taint it does not tolerate")
	}
	syncDaemonSet(ds, rec, Observed{}, nodeWith(cordon), "n1", testEnv(now))
	if len(rec.Set.Pods) != 1 {
		t.Fatalf("no pod on a cordoned node: %d", len(rec.Set.Pods))
	}
	obs := runAll(rec, now)
	syncDaemonSet(ds, rec, obs, nodeWith(noSched), "n1", testEnv(now))
	if len(rec.Set.Pods) != 1 {
		t.Fatalf("a running pod was removed for a NoSchedule taint")
	}
	syncDaemonSet(ds, rec, obs, nodeWith(noExec), "n1", testEnv(now))
	if len(rec.Set.Pods) != 0 {
		t.Fatalf("a running pod stays under an untolerated NoExecute taint")
	}
}
