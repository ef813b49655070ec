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
