package manifest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// expectOps reads the watch's events for name until want ops were seen
// in that order (others in between are allowed).
func expectOps(t *testing.T, w *dirWatch, name string, want ...dirOp) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var seen []dirEvent
	for len(want) > 0 {
		select {
		case ev, ok := <-w.events:
			if !ok {
				t.Fatalf("watch closed; saw %v, still want %v", seen, want)
			}
			seen = append(seen, ev)
			if ev.Name == name && ev.Op.has(want[0]) {
				want = want[1:]
			}
		case <-deadline:
			t.Fatalf("saw %v, still want %v for %q", seen, want, name)
		}
	}
}

// watching starts a watch of dir, closed when the test ends.
func watching(t *testing.T, dir string) *dirWatch {
	t.Helper()
	w, err := newDirWatch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.add(dir); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDirWatchReportsWhenAWriteIsComplete(t *testing.T) {
	dir := t.TempDir()
	w := watching(t, dir)
	// Written in place, as cp does: made, written, then closed.
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte("kind: Pod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "web.yaml", opCreate, opWrite, opCloseWrite)

	// Renamed into place.
	tmp := filepath.Join(dir, ".db.yaml.tmp")
	if err := os.WriteFile(tmp, []byte("kind: Pod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "db.yaml")); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "db.yaml", opMovedIn)

	if err := os.Chmod(filepath.Join(dir, "db.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "db.yaml", opChmod)
	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "web.yaml", opGone)
}

func TestDirWatchFollowsTheDirectoryBack(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := watching(t, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "", opDirGone)
	if w.watching() {
		t.Fatal("still watching a removed directory")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.add(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte("kind: Pod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectOps(t, w, "web.yaml", opCloseWrite)
}

func TestDirWatchCloseEndsEvents(t *testing.T) {
	w, err := newDirWatch()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.add(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case _, ok := <-w.events:
		if ok {
			// drain whatever was queued; the channel must then close
			for range w.events {
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("events channel not closed after Close")
	}
}
