package manifest

import (
	"time"
)

// Debounce: a change is scanned debounceDelay after the last event while a
// manifest file is being written (made or written in place and not yet
// closed by its writer, or its mode changed), but never later than
// debounceMax after the first event, so a file written without pause still
// shows. A file closed by its writer (cp, an editor saving in place),
// renamed into place or removed is complete at once: while no manifest
// file has writes pending, events wait only quickDelay, which gathers the
// files of one burst into one scan. Writes to names that are not read as
// manifests (the hidden temporary file of an atomic write, an editor's
// swap file) do not count, nor do writes to a file that was then renamed
// away or removed.
const (
	debounceDelay = 50 * time.Millisecond
	quickDelay    = 2 * time.Millisecond
	debounceMax   = time.Second
)

// changeTracker decides, event by event, how long to wait before the
// directory is scanned.
type changeTracker struct {
	since   time.Time       // first event of the pending change; zero when none
	written map[string]bool // manifest files written since the last scan
}

// note records one event and returns the delay after which to scan, and
// whether to (re)arm the timer with it: a change pending for debounceMax
// is not pushed back any further.
func (t *changeTracker) note(ev dirEvent, now time.Time) (time.Duration, bool) {
	if t.since.IsZero() {
		t.since = now
	}
	name := ev.Name
	switch {
	case ev.Op.has(opGone | opMovedIn | opCloseWrite):
		// Gone from this name, or complete under it.
		delete(t.written, name)
	case ev.Op.has(opCreate | opWrite | opChmod):
		if isManifestName(name) {
			if t.written == nil {
				t.written = map[string]bool{}
			}
			t.written[name] = true
		}
	}
	delay := quickDelay
	if len(t.written) > 0 {
		delay = debounceDelay
	}
	return delay, now.Sub(t.since) < debounceMax
}

// pending reports whether a change waits for a scan.
func (t *changeTracker) pending() bool { return !t.since.IsZero() }

// begin marks a change pending (a watch error), as of now.
func (t *changeTracker) begin(now time.Time) { t.since = now }

// scanned forgets the pending change.
func (t *changeTracker) scanned() {
	t.since = time.Time{}
	clear(t.written)
}
