package cluster

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/manifest"
)

func boundPod(name string, uid types.UID, phase v1.PodPhase) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: uid},
		Spec: v1.PodSpec{NodeName: "n1"}, Status: v1.PodStatus{Phase: phase}}
}

func TestPlanAPIPods(t *testing.T) {
	running := *boundPod("run", "u-run", v1.PodRunning)
	running.Status.PodIP = "10.0.0.2"
	guessed := *boundPod("guess", "u-guess", v1.PodPending)
	deleted := boundPod("gone", "u-gone", v1.PodRunning)
	deleted.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	stopping := boundPod("stopping", "u-stopping", v1.PodRunning)
	stopping.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	api := []*v1.Pod{
		boundPod("run", "u-run", v1.PodPending), boundPod("guess", "u-guess", v1.PodRunning),
		deleted, stopping, boundPod("refused", "u-refused", v1.PodPending), boundPod("new", "u-new", v1.PodPending),
		mirror("static", "h", "u-mirror", v1.PodStatus{}),
	}
	all := []v1.Pod{running, guessed, *stopping}
	synced := []v1.Pod{running, *stopping}
	refused := func(uid types.UID) string {
		if uid == "u-refused" {
			return "spec.hostUsers: Forbidden: no"
		}
		return ""
	}
	plan, err := planAPIPods("n1", all, synced, api, nil, refused, metav1.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Deletes) != 1 || plan.Deletes[0].UID != "u-gone" {
		t.Errorf("deletes %+v (only a deleted pod whose containers are gone)", plan.Deletes)
	}
	got := map[types.UID]v1.PodStatus{}
	for _, u := range plan.Statuses {
		got[u.Mirror.UID] = u.Status
	}
	if len(got) != 2 || got["u-run"].PodIP != "10.0.0.2" || got["u-refused"].Phase != v1.PodFailed || got["u-refused"].Reason != refusedReason {
		t.Errorf("statuses %+v (the running pod's, and Failed for the refused one; none for a guessed status)", got)
	}
	// Sent already: nothing again.
	sent := map[types.UID]sentStatus{}
	for uid, st := range got {
		sent[uid] = sentStatus{Status: st, At: time.Now()}
	}
	plan, _ = planAPIPods("n1", all, synced, api, sent, refused, metav1.Now())
	if len(plan.Statuses) != 0 {
		t.Errorf("sent again: %+v", plan.Statuses)
	}
}

func TestMergeStates(t *testing.T) {
	file := manifest.Pod{Pod: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}, File: "/etc/minilet/web.yaml", Hash: "f"}
	same := manifest.Pod{Pod: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}, Hash: "a1"}
	other := manifest.Pod{Pod: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "default"}}, Hash: "a2"}
	cm := manifest.ObjectsOf(&v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}})
	f := manifest.State{Pods: []manifest.Pod{file}, Objects: cm, HeldFiles: []string{"/etc/minilet/bad.yaml"}}
	st, shadowed := mergeStates(f, APIState{Pods: []manifest.Pod{same, other}, Objects: cm})
	if len(st.Pods) != 2 || st.Pods[0].Pod.Name != "api" || st.Pods[1].Hash != "f" || len(st.Objects) != 1 {
		t.Errorf("merged pods %v objects %v", st.Pods, st.Objects)
	}
	if len(shadowed) != 2 {
		t.Errorf("shadowed %v", shadowed)
	}
	if !st.Holds(manifest.APIFile("default", "api")) || !st.Holds("/etc/minilet/bad.yaml") {
		t.Errorf("not synced: API pods must be held: %v", st.HeldFiles)
	}
	st, _ = mergeStates(f, APIState{Synced: true})
	if st.Holds(manifest.APIFile("default", "api")) || len(f.HeldFiles) != 1 {
		t.Errorf("synced: held %v; the file state changed: %v", st.HeldFiles, f.HeldFiles)
	}
	// A pod waiting for its first token is held alone.
	st, _ = mergeStates(f, APIState{Synced: true, Held: []string{manifest.APIFile("default", "api")}})
	if !st.Holds(manifest.APIFile("default", "api")) || st.Holds(manifest.APIFile("default", "other")) {
		t.Errorf("held %v: want the waiting pod alone", st.HeldFiles)
	}
}
