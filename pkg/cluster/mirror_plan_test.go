package cluster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/manifest"
)

func localPod(name, hash string, phase v1.PodPhase) v1.Pod {
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("local-" + name),
			Annotations:     map[string]string{manifest.ConfigHashAnnotation: hash, manifest.ConfigSourceAnnotation: "file"},
			Labels:          map[string]string{"app": name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid"}}},
		Spec:   v1.PodSpec{ServiceAccountName: "default", Containers: []v1.Container{{Name: "c", Image: "busybox"}}, EphemeralContainers: []v1.EphemeralContainer{{}}},
		Status: v1.PodStatus{Phase: phase, PodIP: "10.0.0.1", StartTime: &metav1.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)}},
	}
}

func mirror(name, hash string, uid types.UID, status v1.PodStatus) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-n1", Namespace: "default", UID: uid,
			Annotations: map[string]string{mirrorAnnotation: hash}},
		Spec:   v1.PodSpec{NodeName: "n1"},
		Status: status,
	}
}

func TestPlanMirrors(t *testing.T) {
	running := localPod("same", "h1", v1.PodRunning)
	gone := localPod("stopping", "h2", v1.PodRunning)
	gone.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	local := []v1.Pod{running, localPod("changed", "new", v1.PodRunning), localPod("missing", "h3", v1.PodPending), localPod("deleted", "h4", v1.PodRunning), gone}
	deleting := mirror("deleted", "h4", "m-deleted", v1.PodStatus{})
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	other := mirror("x", "h", "m-other", v1.PodStatus{})
	other.Spec.NodeName = "n2"
	apiPod := mirror("api", "", "m-api", v1.PodStatus{})
	delete(apiPod.Annotations, mirrorAnnotation)
	mirrors := []*v1.Pod{
		mirror("same", "h1", "m-same", v1.PodStatus{Phase: v1.PodPending}),
		mirror("changed", "old", "m-changed", v1.PodStatus{}),
		mirror("stopping", "h2", "m-stopping", v1.PodStatus{}),
		mirror("orphan", "h5", "m-orphan", v1.PodStatus{}),
		deleting, other, apiPod,
	}
	now := time.Now()
	plan, err := planMirrors("n1", "node-uid", local, mirrors, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var deletes, creates []string
	for _, m := range plan.Deletes {
		deletes = append(deletes, string(m.UID))
	}
	for _, m := range plan.Creates {
		creates = append(creates, m.Name)
	}
	if got := strings.Join(deletes, ","); got != "m-changed,m-deleted,m-orphan,m-stopping" {
		t.Errorf("deletes %s", got)
	}
	// "changed" and "deleted" are made again once their old mirror is gone
	// (the create of the same name fails until then, and is retried).
	if got := strings.Join(creates, ","); got != "missing-n1" {
		t.Errorf("creates %s", got)
	}
	if len(plan.Statuses) != 1 || plan.Statuses[0].Mirror.UID != "m-same" || plan.Statuses[0].Status.Phase != v1.PodRunning {
		t.Fatalf("statuses %+v", plan.Statuses)
	}
	var patch map[string]any
	if err := json.Unmarshal(plan.Statuses[0].Patch, &patch); err != nil {
		t.Fatal(err)
	}
	if patch["metadata"].(map[string]any)["uid"] != "m-same" || patch["status"].(map[string]any)["phase"] != "Running" {
		t.Errorf("patch %s", plan.Statuses[0].Patch)
	}

	// What was sent is not sent again at once (the informer may not show
	// it yet), but after resendAfter when the API still holds another
	// status; the status as the API holds it (times to the second) needs
	// nothing.
	sent := map[types.UID]sentStatus{"m-same": {Status: plan.Statuses[0].Status, At: now}}
	pending := []*v1.Pod{mirror("same", "h1", "m-same", v1.PodStatus{Phase: v1.PodPending})}
	if plan, _ := planMirrors("n1", "node-uid", local[:1], pending, sent, now.Add(time.Second)); len(plan.Statuses) != 0 {
		t.Errorf("sent again: %+v", plan.Statuses)
	}
	if plan, _ := planMirrors("n1", "node-uid", local[:1], pending, sent, now.Add(resendAfter)); len(plan.Statuses) != 1 {
		t.Errorf("a status changed by someone else is not sent again: %+v", plan.Statuses)
	}
	synced := mirror("same", "h1", "m-same", roundTrip(running.Status))
	if plan, _ := planMirrors("n1", "node-uid", local[:1], []*v1.Pod{synced}, nil, now); len(plan.Statuses) != 0 || len(plan.Creates)+len(plan.Deletes) != 0 {
		t.Errorf("in sync, planned %+v", plan)
	}
}

func TestMirrorPodOf(t *testing.T) {
	l := localPod("web", "h1", v1.PodRunning)
	l.CreationTimestamp = metav1.Time{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := mirrorPodOf(&l, "n1", "node-uid")
	if m.Name != "web-n1" || m.Namespace != "default" || m.UID != "" || m.Spec.NodeName != "n1" {
		t.Errorf("meta %+v spec.nodeName %q", m.ObjectMeta, m.Spec.NodeName)
	}
	if m.Annotations[mirrorAnnotation] != "h1" || m.Annotations[manifest.ConfigSourceAnnotation] != "file" || m.Annotations[configSeenAnnotation] == "" || m.Labels["app"] != "web" {
		t.Errorf("annotations %v labels %v", m.Annotations, m.Labels)
	}
	if len(m.OwnerReferences) != 1 || m.OwnerReferences[0].Kind != "Node" || m.OwnerReferences[0].UID != "node-uid" || !*m.OwnerReferences[0].Controller {
		t.Errorf("owners %+v", m.OwnerReferences)
	}
	if m.Spec.ServiceAccountName != "" || m.Spec.EphemeralContainers != nil {
		t.Errorf("spec keeps what NodeRestriction refuses: %+v", m.Spec)
	}
	if l.Spec.ServiceAccountName != "default" || l.Annotations[mirrorAnnotation] != "" {
		t.Error("the local pod was changed")
	}
}

func TestTokenRetry(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for count, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 10: 10 * time.Second} {
		if got := (failure{at: at, count: count}).retryAt().Sub(at); got != want {
			t.Errorf("after %d failures: retry in %s, want %s", count, got, want)
		}
	}
	tok := token{issued: at, expires: at.Add(time.Hour)}
	if tok.due(at.Add(47*time.Minute)) || !tok.due(at.Add(49*time.Minute)) {
		t.Error("a token is rotated at 80% of its lifetime")
	}
	long := token{issued: at, expires: at.Add(365 * 24 * time.Hour)}
	if !long.due(at.Add(25 * time.Hour)) {
		t.Error("a token older than 24 h is rotated")
	}
}
