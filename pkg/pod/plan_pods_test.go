package pod

import (
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

func desiredPod(name, hash string) manifest.Pod {
	return manifest.Pod{Pod: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}},
		File: "/etc/minilet/" + name + ".yaml", Hash: hash}
}

func renderChanges(cs []change) string {
	var out []string
	for _, c := range cs {
		s := string(c.kind) + " " + c.key
		if c.reason != "" {
			s += " (" + c.reason + ")"
		}
		if c.grace != nil {
			s += fmt.Sprintf(" grace=%d", *c.grace)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func TestPlanPods(t *testing.T) {
	zero := int64(0)
	active := func(hash string, blocked bool) activePod {
		return activePod{hash: hash, file: "/etc/minilet/" + "web.yaml", blocked: blocked}
	}
	cases := []struct {
		name string
		in   podsInput
		want string
	}{
		{"new pods get workers",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h1"), desiredPod("db", "h1")}},
			"add default/db, add default/web"},
		{"unchanged pods are left alone",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h1")}, active: map[string]activePod{"default/web": active("h1", false)}},
			""},
		{"a removed manifest stops its pod",
			podsInput{active: map[string]activePod{"default/web": active("h1", false)}},
			"stop default/web (removed)"},
		{"an edited manifest stops the old pod; the new one waits until it is gone",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h2")}, active: map[string]activePod{"default/web": active("h1", false)}},
			"stop default/web (changed)"},
		{"the new pod starts once the old one is gone",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h2")}, terminating: map[string]bool{}},
			"add default/web"},
		{"not while an old pod of the same name still stops",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h2")}, terminating: map[string]bool{"default/web": true}},
			""},
		{"a held (broken) file keeps its pod",
			podsInput{active: map[string]activePod{"default/web": active("h1", false)}, held: map[string]bool{"/etc/minilet/web.yaml": true}},
			"keep-held default/web"},
		{"cordoned: a changed manifest waits, the pod keeps running",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h2")}, active: map[string]activePod{"default/web": active("h1", false)}, cordoned: true},
			"keep-cordoned default/web"},
		{"cordoned: a removed manifest still stops its pod",
			podsInput{active: map[string]activePod{"default/web": active("h1", false)}, cordoned: true},
			"stop default/web (removed)"},
		{"a pod not admitted is admitted again (the node may be uncordoned)",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h1")}, active: map[string]activePod{"default/web": active("h1", true)}},
			"readmit default/web"},
		{"a pod not admitted whose manifest changed is replaced at once",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h2")}, active: map[string]activePod{"default/web": active("h1", true)}, cordoned: true},
			"stop default/web (changed)"},
		{"drain stops every started pod with its grace, not the blocked ones",
			podsInput{desired: []manifest.Pod{desiredPod("web", "h1"), desiredPod("db", "h1")},
				active:   map[string]activePod{"default/web": active("h1", false), "default/db": active("h1", true)},
				cordoned: true, draining: &drainRequest{grace: &zero}},
			"readmit default/db, stop default/web (drain) grace=0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := renderChanges(planPods(c.in)); got != c.want {
				t.Errorf("planPods:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPlanPodsMetadataOnly(t *testing.T) {
	running := desiredPod("web", "h1")
	running.Pod.UID = "h1"
	running.Pod.Labels = map[string]string{"tier": "a"}
	running.Pod.Spec.Containers = []v1.Container{{Name: "app", Image: "busybox:1"}}
	a := activePod{hash: "h1", file: running.File, pod: running.Pod}

	relabelled := desiredPod("web", "h2")
	relabelled.Pod = running.Pod.DeepCopy()
	relabelled.Pod.UID = "h2"
	relabelled.Pod.Labels = map[string]string{"tier": "b"}
	respecced := desiredPod("web", "h3")
	respecced.Pod = relabelled.Pod.DeepCopy()
	respecced.Pod.UID = "h3"
	respecced.Pod.Spec.Containers[0].Image = "busybox:2"
	pinned := desiredPod("web", "h4")
	pinned.Pod = relabelled.Pod.DeepCopy()
	pinned.Pod.UID = "a-uid-written-in-the-file"

	for _, tc := range []struct {
		name string
		d    manifest.Pod
		a    activePod
		in   podsInput
		want string
	}{
		{"labels changed: updated in place", relabelled, a, podsInput{}, "update-meta default/web"},
		{"labels changed while cordoned: updated in place too", relabelled, a, podsInput{cordoned: true}, "update-meta default/web"},
		{"the spec changed: replaced", respecced, a, podsInput{}, "stop default/web (changed)"},
		{"a UID written in the file changed: replaced", pinned, a, podsInput{}, "stop default/web (changed)"},
		{"a blocked pod is admitted again instead", relabelled, activePod{hash: "h1", file: running.File, pod: running.Pod, blocked: true}, podsInput{}, "stop default/web (changed)"},
	} {
		in := tc.in
		in.desired = []manifest.Pod{tc.d}
		in.active = map[string]activePod{"default/web": tc.a}
		if got := renderChanges(planPods(in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A pod of the API server takes in place what the API server lets change
// in a running pod: new ephemeral containers (kubectl debug),
// activeDeadlineSeconds, tolerations, terminationGracePeriodSeconds and
// images; another change of its spec (the API server refuses it, but a
// pod deleted and made again under the same name in one watch gap looks
// so) replaces it.
func TestPlanPodsAPIInPlace(t *testing.T) {
	running := desiredPod("web", "h1")
	running.Pod.UID = "api-uid"
	running.Pod.Annotations = map[string]string{manifest.ConfigSourceAnnotation: manifest.ConfigSourceAPI}
	running.Pod.Spec.Containers = []v1.Container{{Name: "app", Image: "busybox:1"}}
	a := activePod{hash: "h1", file: running.File, pod: running.Pod}
	debugged := desiredPod("web", "h2")
	debugged.Pod = running.Pod.DeepCopy()
	debugged.Pod.Spec.EphemeralContainers = []v1.EphemeralContainer{{EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "dbg", Image: "busybox:1"}}}
	deadline := desiredPod("web", "h3")
	deadline.Pod = running.Pod.DeepCopy()
	five := int64(5)
	deadline.Pod.Spec.ActiveDeadlineSeconds = &five
	image := desiredPod("web", "h4")
	image.Pod = running.Pod.DeepCopy()
	image.Pod.Spec.Containers[0].Image = "busybox:2"
	image.Pod.Generation = running.Pod.Generation + 1 // the API server counts spec changes
	tolerated := desiredPod("web", "h5")
	tolerated.Pod = running.Pod.DeepCopy()
	tolerated.Pod.Spec.Tolerations = []v1.Toleration{{Key: "k", Operator: v1.TolerationOpExists}}
	tolerated.Pod.Spec.TerminationGracePeriodSeconds = &five
	tolerated.Pod.Generation = running.Pod.Generation + 2
	env := desiredPod("web", "h6")
	env.Pod = running.Pod.DeepCopy()
	env.Pod.Spec.Containers[0].Env = []v1.EnvVar{{Name: "A", Value: "b"}}
	for _, tc := range []struct {
		name string
		d    manifest.Pod
		want string
	}{
		{"an ephemeral container added", debugged, "update-meta default/web"},
		{"activeDeadlineSeconds set", deadline, "update-meta default/web"},
		{"an image changed", image, "update-meta default/web"},
		{"a toleration added, terminationGracePeriodSeconds changed", tolerated, "update-meta default/web"},
		{"an env changed", env, "stop default/web (changed)"},
	} {
		in := podsInput{desired: []manifest.Pod{tc.d}, active: map[string]activePod{"default/web": a}}
		if got := renderChanges(planPods(in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Pods of the API server: one deleted there is stopped with the
// deletion's grace period and not started again; one that ended there is
// kept if it is here and never started.
func TestPlanPodsAPIDeletionAndEnded(t *testing.T) {
	grace := int64(3)
	deleted := desiredPod("deleted", "h1")
	deleted.Pod.DeletionTimestamp = &metav1.Time{}
	deleted.Pod.DeletionGracePeriodSeconds = &grace
	ended := desiredPod("ended", "h2")
	ended.KeepOnly = true
	endedElsewhere := desiredPod("gone-before", "h3")
	endedElsewhere.KeepOnly = true
	deletedBefore := desiredPod("never", "h4")
	deletedBefore.Pod.DeletionTimestamp = &metav1.Time{}
	got := planPods(podsInput{
		desired: []manifest.Pod{deleted, ended, endedElsewhere, deletedBefore},
		active: map[string]activePod{
			"default/deleted": {hash: "h1"},
			"default/ended":   {hash: "h2"},
		},
	})
	if len(got) != 1 || got[0].kind != chStop || got[0].key != "default/deleted" || got[0].reason != "deleted" || got[0].grace == nil || *got[0].grace != 3 {
		t.Fatalf("changes %+v", got)
	}
}
