package manifest

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Source watches a manifest directory and sends the desired set.
type Source struct {
	dir  string
	opts Options
	log  *zap.Logger

	last   State
	sent   bool              // last has been sent
	logged map[string]string // file → error already logged
}

// NewSource returns a Source for dir. Nothing happens until Run.
func NewSource(dir string, opts Options, log *zap.Logger) *Source {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Source{
		dir:    dir,
		opts:   opts,
		log:    log.With(zap.String("dir", dir)),
		logged: map[string]string{},
	}
}

// Run scans the directory, sends the first State at once, then watches the
// directory with inotify (and rescans every RescanInterval as a safety net)
// and sends a new complete State after every change that alters it. If the
// watch cannot be set up, it logs that and relies on the rescans.
//
// While the directory cannot be listed (missing, not a directory,
// unreadable) Run sends nothing, so the consumer keeps what it runs; the
// first State then comes with the first successful scan. Remove files, not
// the directory, to stop pods.
//
// Run returns nil when ctx ends. It must not be called twice at once.
func (s *Source) Run(ctx context.Context, out chan<- State) error {
	w, err := newDirWatch()
	if err != nil {
		s.log.Warn("cannot watch manifest directory; relying on periodic rescans", zap.Error(err))
		w = nil
	} else {
		defer w.Close()
	}
	var events <-chan dirEvent
	var watchErrs <-chan error
	if w != nil {
		events, watchErrs = w.events, w.errs
	}
	watch := func() {
		if w == nil || w.watching() {
			return
		}
		if err := w.add(s.dir); err != nil {
			s.logOnce(s.dir+" (watch)", "cannot watch manifest directory; relying on periodic rescans", err)
			return
		}
		s.clearLogged(s.dir + " (watch)")
	}
	watch()
	if !s.sync(ctx, out) {
		return nil
	}

	ticker := time.NewTicker(s.opts.rescanInterval())
	defer ticker.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var change changeTracker

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op.has(opOverflow) {
				s.log.Info("manifest watch overflowed; rescanning")
			}
			// A directory that went away is watched again at the next
			// scan, once it is back.
			if delay, rearm := change.note(ev, time.Now()); rearm {
				debounce.Reset(delay)
			}
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			s.log.Warn("manifest watch error", zap.Error(err))
			if !change.pending() {
				change.begin(time.Now())
				debounce.Reset(debounceDelay)
			}
		case <-debounce.C:
			change.scanned()
			watch()
			if !s.sync(ctx, out) {
				return nil
			}
		case <-ticker.C:
			watch()
			if !s.sync(ctx, out) {
				return nil
			}
		}
	}
}

// sync scans once and sends the State if it differs from the last one
// sent. It returns false when ctx ended while sending.
func (s *Source) sync(ctx context.Context, out chan<- State) bool {
	st, ok := s.scan()
	if !ok || (s.sent && equalStates(st, s.last)) {
		return true
	}
	select {
	case out <- copyState(st):
		s.last, s.sent = st, true
		return true
	case <-ctx.Done():
		return false
	}
}

// scan reads the directory and builds the next State; ok is false when the
// directory could not be listed.
func (s *Source) scan() (State, bool) {
	files, err := listDir(s.dir, s.opts)
	if files == nil && err != nil {
		s.logOnce(s.dir, "cannot read manifest directory; keeping the pods as they are", err)
		if s.sent {
			return State{}, false
		}
		// The first State, which the daemon waits for to be ready:
		// nothing is wanted yet, and every pod from the directory is
		// held (a directory missing at start, e.g. not yet mounted, must
		// not stop them). The rescans pick the directory up once it is
		// there.
		return State{
			Errors:    []FileError{{File: s.dir, Err: err}},
			HeldFiles: []string{strings.TrimSuffix(s.dir, "/") + "/"},
		}, true
	}
	if err != nil {
		s.logOnce(s.dir, "manifest directory refused; keeping the pods as they are", err)
	} else {
		s.clearLogged(s.dir)
	}
	st := buildState(files, s.last)
	s.logErrors(st)
	return st, true
}

// logErrors logs each file's error once, when it appears or changes, and
// notes when a file is usable again.
func (s *Source) logErrors(st State) {
	current := map[string]bool{s.dir: true, s.dir + " (watch)": true}
	for _, e := range st.Errors {
		current[e.File] = true
		if s.logged[e.File] == e.Err.Error() {
			continue
		}
		s.logged[e.File] = e.Err.Error()
		kept := 0
		for _, p := range st.Pods {
			if p.File == e.File {
				kept++
			}
		}
		s.log.Error("manifest file refused; its running pods are kept",
			zap.String("file", e.File), zap.Error(e.Err), zap.Int("keptPods", kept))
	}
	for f := range s.logged {
		if !current[f] {
			delete(s.logged, f)
			s.log.Info("manifest file problem resolved", zap.String("file", f))
		}
	}
}

func (s *Source) logOnce(key, msg string, err error) {
	if s.logged[key] == err.Error() {
		return
	}
	s.logged[key] = err.Error()
	s.log.Error(msg, zap.Error(err))
}

func (s *Source) clearLogged(key string) {
	if _, ok := s.logged[key]; ok {
		delete(s.logged, key)
		s.log.Info("manifest directory problem resolved", zap.String("problem", key))
	}
}
