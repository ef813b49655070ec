package manifest

import (
	"testing"
	"time"
)

func TestChangeTrackerDelays(t *testing.T) {
	ev := func(name string, op dirOp) dirEvent { return dirEvent{Name: name, Op: op} }
	cases := []struct {
		name   string
		events []dirEvent
		want   time.Duration
	}{
		{"atomic write: hidden temp file renamed into place", []dirEvent{
			ev(".web.yaml.tmp", opCreate), ev(".web.yaml.tmp", opWrite),
			ev(".web.yaml.tmp", opGone), ev("web.yaml", opMovedIn)}, quickDelay},
		{"atomic write through a temp name that looks like a manifest", []dirEvent{
			ev("web-new.yaml", opCreate), ev("web-new.yaml", opWrite),
			ev("web-new.yaml", opGone), ev("web.yaml", opMovedIn)}, quickDelay},
		{"editor swap file written", []dirEvent{
			ev(".web.yaml.swp", opWrite), ev("web.yaml", opMovedIn)}, quickDelay},
		{"removed", []dirEvent{ev("web.yaml", opGone)}, quickDelay},
		{"written in place, still open", []dirEvent{
			ev("web.yaml", opCreate), ev("web.yaml", opWrite)}, debounceDelay},
		{"made in place, not yet written", []dirEvent{ev("web.yaml", opCreate)}, debounceDelay},
		{"written in place and closed (cp)", []dirEvent{
			ev("web.yaml", opCreate), ev("web.yaml", opWrite), ev("web.yaml", opCloseWrite)}, quickDelay},
		{"two written in place, one closed", []dirEvent{
			ev("web.yaml", opCreate), ev("db.yaml", opCreate), ev("web.yaml", opWrite), ev("web.yaml", opCloseWrite)}, debounceDelay},
		{"written in place, then another file renamed in", []dirEvent{
			ev("web.yaml", opWrite), ev("db.yaml", opMovedIn)}, debounceDelay},
		{"chmod of a manifest", []dirEvent{ev("web.yaml", opChmod)}, debounceDelay},
		{"written, then removed", []dirEvent{
			ev("web.yaml", opWrite), ev("web.yaml", opGone)}, quickDelay},
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
	w := dirEvent{Name: "web.yaml", Op: opWrite}
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
	if d, rearm := tr.note(dirEvent{Name: "db.yaml", Op: opMovedIn}, t0.Add(2*debounceMax)); d != quickDelay || !rearm {
		t.Errorf("after a scan, a rename-in waits %v (rearm %v), want %v: the old write must be forgotten", d, rearm, quickDelay)
	}
}
