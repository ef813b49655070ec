package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// runSource starts a Source on dir and stops it when the test ends.
func runSource(t *testing.T, dir string, opts Options) <-chan State {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan State)
	done := make(chan error, 1)
	src := NewSource(dir, opts, zap.NewNop())
	go func() { done <- src.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return out
}

// waitFor receives States until one satisfies cond, failing after a
// deadline.
func waitFor(t *testing.T, ch <-chan State, what string, cond func(State) bool) State {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var last State
	for {
		select {
		case st := <-ch:
			if cond(st) {
				return st
			}
			last = st
		case <-deadline:
			t.Fatalf("no State with %s; last: %s", what, summary(last))
		}
	}
}

func podNamed(st State, name string) (Pod, bool) {
	for _, p := range st.Pods {
		if p.Pod.Name == name {
			return p, true
		}
	}
	return Pod{}, false
}

func TestSourceLifecycle(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	ch := runSource(t, dir, Options{NodeName: "n1", RescanInterval: time.Hour})

	// The first State comes at once, even when empty.
	select {
	case st := <-ch:
		if len(st.Pods)+len(st.Errors)+len(st.HeldFiles) != 0 {
			t.Fatalf("first State of an empty dir: %s", summary(st))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no first State")
	}

	// Add.
	writeFile(t, file, namedPod("web"), 0o644)
	st := waitFor(t, ch, "pod web", func(st State) bool { _, ok := podNamed(st, "web"); return ok })
	first, _ := podNamed(st, "web")
	if first.File != file || first.Pod.Spec.NodeName != "n1" {
		t.Errorf("pod from %s on node %q", first.File, first.Pod.Spec.NodeName)
	}

	// Edit: a new hash.
	writeFile(t, file, strings.Replace(namedPod("web"), "nginx:1.25", "nginx:1.26", 1), 0o644)
	st = waitFor(t, ch, "a new hash", func(st State) bool { p, ok := podNamed(st, "web"); return ok && p.Hash != first.Hash })
	second, _ := podNamed(st, "web")

	// Invalid edit: the pod stays as it was, the file is in Errors and HeldFiles.
	writeFile(t, file, namedPod("web")+"    imagee: typo\n", 0o644)
	st = waitFor(t, ch, "an error", func(st State) bool { return len(st.Errors) > 0 })
	if p, ok := podNamed(st, "web"); !ok || p.Hash != second.Hash {
		t.Errorf("pod after an invalid edit: %s, want hash %s kept", summary(st), second.Hash)
	}
	if len(st.HeldFiles) != 1 || st.HeldFiles[0] != file {
		t.Errorf("HeldFiles = %v, want [%s]", st.HeldFiles, file)
	}
	if !strings.Contains(st.Errors[0].Error(), file+": document 1: spec.containers[0].imagee: unknown field") {
		t.Errorf("error = %v", st.Errors[0])
	}

	// Valid again, written the way editors do: a temporary file renamed
	// over the old one.
	tmp := filepath.Join(dir, ".web.yaml.swp")
	writeFile(t, tmp, strings.Replace(namedPod("web"), "nginx:1.25", "nginx:1.27", 1), 0o644)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, ch, "the error gone", func(st State) bool { return len(st.Errors) == 0 })
	if p, ok := podNamed(st, "web"); !ok || p.Hash == second.Hash || p.Pod.Spec.Containers[0].Image != "nginx:1.27" {
		t.Errorf("after the fix: %s", summary(st))
	}

	// Delete.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "no pods", func(st State) bool { return len(st.Pods) == 0 && len(st.HeldFiles) == 0 })
}

func TestSourceDuplicates(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), namedPod("web"), 0o644)
	ch := runSource(t, dir, Options{RescanInterval: time.Hour})
	waitFor(t, ch, "pod web from b", func(st State) bool { p, ok := podNamed(st, "web"); return ok && strings.HasSuffix(p.File, "b.yaml") })

	// a.yaml sorts first, but b.yaml already has the pod: a is refused.
	writeFile(t, filepath.Join(dir, "a.yaml"), namedPod("web"), 0o644)
	st := waitFor(t, ch, "an error", func(st State) bool { return len(st.Errors) > 0 })
	if p, _ := podNamed(st, "web"); !strings.HasSuffix(p.File, "b.yaml") {
		t.Errorf("web comes from %s, want b.yaml", p.File)
	}
	e := st.Errors[0].Error()
	if !strings.Contains(e, filepath.Join(dir, "a.yaml")) || !strings.Contains(e, filepath.Join(dir, "b.yaml")) {
		t.Errorf("error %q should name both files", e)
	}
}

func TestSourceUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "pod.yaml"), namedPod("outside"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "pod.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "open.yaml"), namedPod("open"), 0o666)
	writeFile(t, filepath.Join(dir, "big.yaml"), strings.Repeat("#", MaxFileSize+1), 0o644)
	writeFile(t, filepath.Join(dir, ".hidden.yaml"), namedPod("hidden"), 0o644)

	ch := runSource(t, dir, Options{StrictPerms: true, RescanInterval: time.Hour})
	st := waitFor(t, ch, "errors", func(st State) bool { return len(st.Errors) > 0 })
	if len(st.Pods) != 0 {
		t.Errorf("pods from unsafe files: %s", summary(st))
	}
	want := []string{"big.yaml", "link.yaml", "open.yaml"}
	if len(st.HeldFiles) != len(want) {
		t.Fatalf("HeldFiles = %v, want %v", st.HeldFiles, want)
	}
	for i, w := range want {
		if st.HeldFiles[i] != filepath.Join(dir, w) {
			t.Errorf("HeldFiles[%d] = %s, want %s", i, st.HeldFiles[i], w)
		}
	}
}

func TestSourceDirectoryAppears(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	ch := runSource(t, dir, Options{RescanInterval: 20 * time.Millisecond})
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web"), 0o644)
	waitFor(t, ch, "pod web", func(st State) bool { _, ok := podNamed(st, "web"); return ok })
	// Once the directory is watched again, changes come without waiting
	// for a rescan; either way they come.
	writeFile(t, filepath.Join(dir, "api.yaml"), namedPod("api"), 0o644)
	waitFor(t, ch, "pod api", func(st State) bool { _, ok := podNamed(st, "api"); return ok })
}

func TestSyncSendsOnlyChanges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.yaml"), namedPod("web"), 0o644)
	core, logs := observer.New(zapcore.InfoLevel)
	src := NewSource(dir, Options{}, zap.New(core))
	out := make(chan State, 10)
	ctx := context.Background()

	src.sync(ctx, out)
	src.sync(ctx, out)
	if len(out) != 1 {
		t.Fatalf("two scans of an unchanged dir sent %d States, want 1", len(out))
	}
	<-out

	// A bad file: one new State, one log line however often we scan.
	writeFile(t, filepath.Join(dir, "bad.yaml"), "kind: Ingress\n", 0o644)
	for range 3 {
		src.sync(ctx, out)
	}
	if len(out) != 1 {
		t.Fatalf("%d States after a bad file, want 1", len(out))
	}
	<-out
	refused := logs.FilterMessageSnippet("refused").All()
	if len(refused) != 1 {
		t.Fatalf("logged %d times, want once: %v", len(refused), logs.All())
	}
	fields := refused[0].ContextMap()
	if fields["file"] != filepath.Join(dir, "bad.yaml") || !strings.Contains(fields["error"].(string), `"Ingress" is not supported`) {
		t.Errorf("log fields %v", fields)
	}

	// A changed error is logged again.
	writeFile(t, filepath.Join(dir, "bad.yaml"), "kind: Service\n", 0o644)
	src.sync(ctx, out)
	if n := logs.FilterMessageSnippet("refused").Len(); n != 2 {
		t.Errorf("a changed error logged %d times in all, want 2", n)
	}

	// The State handed out is a copy: changing it does not change ours.
	st := <-out
	st.Pods[0].Pod.Name = "mutated"
	if src.last.Pods[0].Pod.Name != "web" {
		t.Error("the receiver's State shares pods with the Source")
	}
}

// TestSyncMissingDir: a directory missing at start gives one State that
// wants nothing and holds every file below the directory (the daemon gets
// ready, and keeps the pods a previous daemon ran from it); later scans
// of a still missing directory send nothing; the directory once there is
// read as usual.
func TestSyncMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	core, logs := observer.New(zapcore.InfoLevel)
	src := NewSource(dir, Options{}, zap.New(core))
	out := make(chan State, 10)
	for range 3 {
		src.sync(context.Background(), out)
	}
	if len(out) != 1 {
		t.Fatalf("sent %d States for a missing directory, want one", len(out))
	}
	st := <-out
	if len(st.Pods) != 0 || !st.Holds(filepath.Join(dir, "web.yaml")) || st.Holds(filepath.Join(filepath.Dir(dir), "other.yaml")) || len(st.Errors) != 1 {
		t.Fatalf("state %+v: want nothing, every file of the directory held, one error", st)
	}
	if n := logs.FilterMessageSnippet("cannot read manifest directory").Len(); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src.sync(context.Background(), out)
	if len(out) != 1 {
		t.Fatal("no State once the directory is there")
	}
	if st := <-out; len(st.HeldFiles) != 0 || len(st.Errors) != 0 {
		t.Fatalf("state once the directory is there: %+v", st)
	}
}
