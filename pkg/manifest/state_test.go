package manifest

import (
	"errors"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func mkPod(file, name, hash string) Pod {
	return Pod{
		Pod:  &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}},
		File: file,
		Hash: hash,
	}
}

func ok(file string, pods ...Pod) fileResult { return fileResult{path: file, pods: pods} }

func bad(file string) fileResult { return fileResult{path: file, err: errors.New("broken")} }

// summary renders a State as "pods | errors | held" for comparisons.
func summary(s State) string {
	var pods, errs []string
	for _, p := range s.Pods {
		pods = append(pods, p.Pod.Name+"@"+p.File+"#"+p.Hash)
	}
	for _, e := range s.Errors {
		errs = append(errs, e.File)
	}
	return strings.Join(pods, ",") + " | " + strings.Join(errs, ",") + " | " + strings.Join(s.HeldFiles, ",")
}

func TestBuildState(t *testing.T) {
	cases := []struct {
		name  string
		prev  State
		files []fileResult
		want  string
		errs  []string // substrings of the errors, in order
	}{
		{
			name:  "add",
			files: []fileResult{ok("a", mkPod("a", "web", "1"))},
			want:  "web@a#1 |  | ",
		},
		{
			name:  "edit",
			prev:  State{Pods: []Pod{mkPod("a", "web", "1")}},
			files: []fileResult{ok("a", mkPod("a", "web", "2"))},
			want:  "web@a#2 |  | ",
		},
		{
			name:  "invalid edit keeps the last good pods",
			prev:  State{Pods: []Pod{mkPod("a", "web", "1"), mkPod("a", "api", "1")}},
			files: []fileResult{bad("a")},
			want:  "api@a#1,web@a#1 | a | a",
			errs:  []string{"broken"},
		},
		{
			name:  "invalid new file holds nothing but is held",
			files: []fileResult{bad("a"), ok("b", mkPod("b", "web", "1"))},
			want:  "web@b#1 | a | a",
		},
		{
			name: "delete",
			prev: State{Pods: []Pod{mkPod("a", "web", "1")}},
			want: " |  | ",
		},
		{
			name: "deleting an invalid file drops its kept pods",
			prev: State{Pods: []Pod{mkPod("a", "web", "1")}, Errors: []FileError{{File: "a", Err: errors.New("broken")}}, HeldFiles: []string{"a"}},
			want: " |  | ",
		},
		{
			name:  "new duplicates: first file wins",
			files: []fileResult{ok("a", mkPod("a", "web", "1")), ok("b", mkPod("b", "web", "2"), mkPod("b", "api", "2"))},
			want:  "web@a#1 | b | b",
			errs:  []string{"pod default/web is already defined in a; this file is refused"},
		},
		{
			name:  "the file that had the pod keeps it",
			prev:  State{Pods: []Pod{mkPod("b", "web", "2")}},
			files: []fileResult{ok("a", mkPod("a", "web", "1")), ok("b", mkPod("b", "web", "2"))},
			want:  "web@b#2 | a | a",
			errs:  []string{"already defined in b"},
		},
		{
			name:  "the file that had the pod keeps it while it is invalid",
			prev:  State{Pods: []Pod{mkPod("b", "web", "2")}},
			files: []fileResult{ok("a", mkPod("a", "web", "1")), bad("b")},
			want:  "web@b#2 | a,b | a,b",
			errs:  []string{"already defined in b", "broken"},
		},
		{
			name:  "a pod given up is free",
			prev:  State{Pods: []Pod{mkPod("b", "web", "2")}},
			files: []fileResult{ok("a", mkPod("a", "web", "1")), ok("b", mkPod("b", "api", "2"))},
			want:  "api@b#2,web@a#1 |  | ",
		},
		{
			name:  "a refused file keeps its previous pods",
			prev:  State{Pods: []Pod{mkPod("a", "web", "1"), mkPod("b", "api", "1")}},
			files: []fileResult{ok("a", mkPod("a", "web", "1")), ok("b", mkPod("b", "api", "2"), mkPod("b", "web", "2"))},
			want:  "api@b#1,web@a#1 | b | b",
			errs:  []string{"already defined in a"},
		},
		{
			// b drops x and takes w, which c owns: b is refused and keeps
			// x, which a had just claimed: a is refused too.
			name: "cascade",
			prev: State{Pods: []Pod{mkPod("b", "x", "1"), mkPod("c", "w", "1")}},
			files: []fileResult{
				ok("a", mkPod("a", "x", "2")),
				ok("b", mkPod("b", "z", "2"), mkPod("b", "w", "2")),
				ok("c", mkPod("c", "w", "1")),
			},
			want: "w@c#1,x@b#1 | a,b | a,b",
			errs: []string{"pod default/x is already defined in b", "pod default/w is already defined in c"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := buildState(c.files, c.prev)
			if got := summary(st); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			for i, want := range c.errs {
				if i >= len(st.Errors) || !strings.Contains(st.Errors[i].Error(), want) {
					t.Errorf("errors %v: want #%d to contain %q", st.Errors, i, want)
				}
			}
			// The result is stable: building again from it changes nothing.
			if again := buildState(c.files, st); !equalStates(again, st) {
				t.Errorf("not stable: %s then %s", summary(st), summary(again))
			}
		})
	}
}

func TestEqualStates(t *testing.T) {
	a := State{Pods: []Pod{mkPod("a", "web", "1")}, Errors: []FileError{{File: "b", Err: errors.New("x")}}, HeldFiles: []string{"b"}}
	same := State{Pods: []Pod{mkPod("a", "web", "1")}, Errors: []FileError{{File: "b", Err: errors.New("x")}}, HeldFiles: []string{"b"}}
	if !equalStates(a, same) {
		t.Error("equal states differ")
	}
	for name, b := range map[string]State{
		"hash":  {Pods: []Pod{mkPod("a", "web", "2")}, Errors: a.Errors, HeldFiles: a.HeldFiles},
		"error": {Pods: a.Pods, Errors: []FileError{{File: "b", Err: errors.New("y")}}, HeldFiles: a.HeldFiles},
		"held":  {Pods: a.Pods, Errors: a.Errors},
	} {
		if equalStates(a, b) {
			t.Errorf("%s: different states are equal", name)
		}
	}
}
