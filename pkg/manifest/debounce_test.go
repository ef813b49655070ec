package manifest

import (
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestChangeTrackerDelays(t *testing.T) {
	ev := func(name string, op fsnotify.Op) fsnotify.Event {
		return fsnotify.Event{Name: "/etc/minilet/" + name, Op: op}
	}
	cases := []struct {
		name   string
		events []fsnotify.Event
		want   time.Duration
	}{
		{"atomic write: hidden temp file renamed into place", []fsnotify.Event{
			ev(".web.yaml.tmp", fsnotify.Create), ev(".web.yaml.tmp", fsnotify.Write),
			ev(".web.yaml.tmp", fsnotify.Rename), ev("web.yaml", fsnotify.Create)}, quickDelay},
		{"atomic write through a temp name that looks like a manifest", []fsnotify.Event{
			ev("web-new.yaml", fsnotify.Create), ev("web-new.yaml", fsnotify.Write),
			ev("web-new.yaml", fsnotify.Rename), ev("web.yaml", fsnotify.Create)}, quickDelay},
		{"editor swap file written", []fsnotify.Event{
			ev(".web.yaml.swp", fsnotify.Write), ev("web.yaml", fsnotify.Create)}, quickDelay},
		{"removed", []fsnotify.Event{ev("web.yaml", fsnotify.Remove)}, quickDelay},
		{"written in place", []fsnotify.Event{
			ev("web.yaml", fsnotify.Create), ev("web.yaml", fsnotify.Write)}, debounceDelay},
		{"written in place, then another file renamed in", []fsnotify.Event{
			ev("web.yaml", fsnotify.Write), ev("db.yaml", fsnotify.Create)}, debounceDelay},
		{"chmod of a manifest", []fsnotify.Event{ev("web.yaml", fsnotify.Chmod)}, debounceDelay},
		{"written, then removed", []fsnotify.Event{
			ev("web.yaml", fsnotify.Write), ev("web.yaml", fsnotify.Remove)}, quickDelay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tr changeTracker
			now := time.Unix(1000, 0)
			var got time.Duration
			for _, e := range tc.events {
				var rearm bool
				got, rearm = tr.note(e, now)
				if !rearm {
					t.Fatalf("event %v: timer not rearmed within debounceMax", e)
				}
			}
			if got != tc.want {
				t.Errorf("delay after %v = %v, want %v", tc.events, got, tc.want)
			}
		})
	}
}

func TestChangeTrackerMaxAndScan(t *testing.T) {
	var tr changeTracker
	t0 := time.Unix(1000, 0)
	w := fsnotify.Event{Name: "/d/web.yaml", Op: fsnotify.Write}
	if _, rearm := tr.note(w, t0); !rearm || !tr.pending() {
		t.Fatal("first event: want a pending change and the timer armed")
	}
	if _, rearm := tr.note(w, t0.Add(debounceMax)); rearm {
		t.Error("a change pending for debounceMax was pushed back again")
	}
	tr.scanned()
	if tr.pending() {
		t.Error("pending after scan")
	}
	if d, rearm := tr.note(fsnotify.Event{Name: "/d/db.yaml", Op: fsnotify.Create}, t0.Add(2*debounceMax)); d != quickDelay || !rearm {
		t.Errorf("after a scan, a rename-in waits %v (rearm %v), want %v: the old write must be forgotten", d, rearm, quickDelay)
	}
}
