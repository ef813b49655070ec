package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/minilet/minilet/pkg/podsandbox"
)

// settle is the pause after a pod runs before it is measured further or
// removed, so that the daemon's work after the start (status, probes) is
// not counted in the next figure.
const settle = 300 * time.Millisecond

// figIdleRSS samples the daemon's RSS after startup, with no pods.
func (b *bench) figIdleRSS(ctx context.Context) error {
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	var xs []float64
	var split []rssSplit
	for i := 0; i < 5; i++ {
		r, err := rssMiB(b.d.PID())
		if err != nil {
			return err
		}
		xs = append(xs, r)
		sp, err := readRSSSplit(b.d.PID())
		if err != nil {
			return err
		}
		split = append(split, sp)
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	f := newFigure("rss_idle", "agent RSS, idle (no pods, after startup)", "MiB", xs, nil)
	splitFigure(f, split)
	b.report.add(f)
	b.saveProfile(ctx, "heap", "heap-idle.pprof", 30*time.Second)
	return nil
}

// startSample is one side's result in one run of a start figure.
type startSample struct {
	burst   burst
	removal time.Duration // when the figure times a removal
	pauses  []int         // the pods' pause PIDs, when asked for
}

// startRun says what one run of a start figure does.
type startRun struct {
	specs []podSpec
	// timeRemoval times the removal of the (single) pod on each side.
	timeRemoval bool
	// keepMinilet leaves minilet's pods running (it goes last then).
	keepMinilet bool
	// after runs on each side once its pods run, before they are removed
	// (memory samples).
	after func(side string, s *startSample) error
	// minilet, when set, makes minilet's side instead of writing specs'
	// pod files (a Deployment), and removeMinilet removes what it wrote.
	minilet       func(ctx context.Context) (burst, error)
	removeMinilet func() error
}

// runSides runs one run of a start figure on the three sides, in an order
// that rotates from run to run so drift on the machine weighs on all
// alike; each side starts on a settled machine (containerd's garbage
// collection of the previous side's snapshots done, then a pause).
func (b *bench) runSides(ctx context.Context, run int, r startRun) (map[string]startSample, error) {
	order := []string{sideMinilet, sideLean, sideChoices}
	k := ((run % 3) + 3) % 3
	order = append(order[k:], order[:k]...)
	if r.keepMinilet {
		order = []string{sideLean, sideChoices, sideMinilet}
	}
	out := map[string]startSample{}
	for _, side := range order {
		if err := b.settler.settle(ctx); err != nil {
			return nil, err
		}
		var s startSample
		var err error
		switch side {
		case sideMinilet:
			s, err = b.miniletSide(ctx, r)
		case sideLean:
			s, err = b.leanSide(ctx, b.lean, side, r)
		case sideChoices:
			s, err = b.leanSide(ctx, b.choices, side, r)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", side, err)
		}
		out[side] = s
	}
	return out, nil
}

func (b *bench) miniletSide(ctx context.Context, r startRun) (startSample, error) {
	var s startSample
	var err error
	if r.minilet != nil {
		s.burst, err = r.minilet(ctx)
	} else {
		s.burst, err = b.miniletBurst(ctx, r.specs)
	}
	if err != nil {
		return s, err
	}
	if r.after != nil {
		cs, err := b.d.rt.ListContainers(ctx, nil)
		if err != nil {
			return s, err
		}
		s.pauses = pausePIDs(cs)
		if err := r.after(sideMinilet, &s); err != nil {
			return s, err
		}
	}
	if r.keepMinilet {
		return s, nil
	}
	if err := sleep(ctx, settle); err != nil {
		return s, err
	}
	if r.timeRemoval {
		s.removal, err = b.miniletRemove(ctx, r.specs[0])
		return s, err
	}
	remove := func() error { return b.removeManifests(r.specs) }
	if r.removeMinilet != nil {
		remove = r.removeMinilet
	}
	if err := remove(); err != nil {
		return s, err
	}
	return s, b.d.waitGone(ctx, 300*time.Second)
}

func (b *bench) leanSide(ctx context.Context, l *leanFloor, side string, r startRun) (startSample, error) {
	var s startSample
	var err error
	if s.burst, err = b.leanBurst(ctx, l, r.specs); err != nil {
		return s, err
	}
	if r.after != nil {
		s.pauses = l.pausePIDs(ctx)
		if err := r.after(side, &s); err != nil {
			return s, err
		}
	}
	if err := sleep(ctx, settle); err != nil {
		return s, err
	}
	if r.timeRemoval {
		t0 := time.Now()
		err := l.remove(ctx, leanName(r.specs[0].name))
		s.removal = time.Since(t0)
		return s, err
	}
	return s, l.removeAll(ctx)
}

// startFigures adds a start figure twice: against the lean floor and
// against the lean floor with minilet's choices (the seccomp profile on
// app containers, the log driver), so it reads with and without them.
func (b *bench) startFigures(key, work string, m, lean, choices []float64, parts []Part, note string) {
	f := newFigure(key, work, "ms", m, lean)
	f.Note = "floor: " + b.leanNote() + "; " + note
	b.report.add(f)
	o := newFigure(key+"_choices", work+", vs floor + minilet's choices", "ms", m, choices)
	o.FloorParts = parts
	o.Note = "floor: " + choicesNote + "; " + note
	b.report.add(o)
}

// choicesNote says what the second floor adds to the lean one.
const choicesNote = "lean floor + containerd's default seccomp profile on app containers (minilet's RuntimeDefault) + output through minilet's log driver"

// leanNote says what the lean floor is, with any choice -lean-with added.
func (b *bench) leanNote() string {
	n := "lean floor (plain containerd client calls, containerd's default spec, output written by the shim)"
	if w := b.report.Config.LeanWith; w != "" {
		n += " with " + w + " added (-lean-with)"
	}
	return n
}

// figOnePod measures a 1-container pod's start (manifest written → app
// container's TaskStart) and its removal (manifest removed → containers
// and netns gone), against the floors' sequential start and their
// teardown. One warm-up run is not counted.
func (b *bench) figOnePod(ctx context.Context) error {
	var mStart, lStart, oStart, mRemove, lRemove, oRemove, pause, cni, app []float64
	var ph phaseSamples
	for i := -1; i < b.runs; i++ {
		spec := podSpec{name: fmt.Sprintf("one-%d", i+1), containers: 1}
		res, err := b.runSides(ctx, i, startRun{specs: []podSpec{spec}, timeRemoval: true})
		if err != nil {
			return err
		}
		if i < 0 {
			continue
		}
		m, l, o := res[sideMinilet], res[sideLean], res[sideChoices]
		if err := ph.add(b, res); err != nil {
			return err
		}
		mStart, lStart, oStart = append(mStart, ms(m.burst.total)), append(lStart, ms(l.burst.total)), append(oStart, ms(o.burst.total))
		mRemove, lRemove, oRemove = append(mRemove, ms(m.removal)), append(lRemove, ms(l.removal)), append(oRemove, ms(o.removal))
		first := o.burst.parts[0]
		pause, cni, app = append(pause, ms(first.pause)), append(cni, ms(first.cni)), append(app, ms(first.apps))
		b.logf("1-container pod %d/%d: start minilet %.0f ms, lean %.0f ms, +choices %.0f ms; removal minilet %.0f ms, lean %.0f ms, +choices %.0f ms",
			i+1, b.runs, mStart[i], lStart[i], oStart[i], mRemove[i], lRemove[i], oRemove[i])
	}
	b.startFigures("pod1_start", "1-container pod, manifest → app started", mStart, lStart, oStart,
		[]Part{{"CNI", summarize(cni)}, {"pause", summarize(pause)}, {"app", summarize(app)}}, "steps in sequence")
	for _, f := range ph.figures("pod1", 1) {
		b.report.add(f)
	}
	r := newFigure("pod_removal", "pod removal (grace 30 s, exits on SIGTERM) → containers and netns gone", "ms", mRemove, lRemove)
	r.Note = "floor: " + b.leanNote()
	b.report.add(r)
	ro := newFigure("pod_removal_choices", "pod removal, vs floor + minilet's choices", "ms", mRemove, oRemove)
	ro.Note = "floor: " + choicesNote
	b.report.add(ro)
	return nil
}

// figThreeContainers measures a 3-container pod's start against the
// floors creating its apps one after another.
func (b *bench) figThreeContainers(ctx context.Context) error {
	var mStart, lStart, oStart, pause, cni, app []float64
	for i := 0; i < b.runs; i++ {
		spec := podSpec{name: fmt.Sprintf("three-%d", i), containers: 3}
		res, err := b.runSides(ctx, i, startRun{specs: []podSpec{spec}})
		if err != nil {
			return err
		}
		m, l, o := res[sideMinilet], res[sideLean], res[sideChoices]
		mStart, lStart, oStart = append(mStart, ms(m.burst.total)), append(lStart, ms(l.burst.total)), append(oStart, ms(o.burst.total))
		first := o.burst.parts[0]
		pause, cni, app = append(pause, ms(first.pause)), append(cni, ms(first.cni)), append(app, ms(first.apps))
		b.logf("3-container pod %d/%d: minilet %.0f ms, lean %.0f ms, +choices %.0f ms", i+1, b.runs, mStart[i], lStart[i], oStart[i])
	}
	b.startFigures("pod3_start", "3-container pod, manifest → all apps started", mStart, lStart, oStart,
		[]Part{{"CNI", summarize(cni)}, {"pause", summarize(pause)}, {"apps", summarize(app)}},
		"the floors create and start the three apps one after another")
	return nil
}

// miniletRemove removes a pod's manifest and measures until containerd
// holds none of its containers and its netns file is gone (polled every
// 5ms); then it waits, untimed, until the API no longer lists it.
func (b *bench) miniletRemove(ctx context.Context, spec podSpec) (time.Duration, error) {
	cs, err := b.d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodName: spec.name})
	if err != nil {
		return 0, err
	}
	if len(cs) == 0 {
		return 0, fmt.Errorf("pod %s has no containers", spec.name)
	}
	podID := cs[0].Labels[podsandbox.LabelPodID]
	netns := filepath.Join(b.d.netnsDir, podID)
	t0 := time.Now()
	if err := b.removeManifests([]podSpec{spec}); err != nil {
		return 0, err
	}
	deadline := t0.Add(60 * time.Second)
	var took time.Duration
	for {
		cs, err := b.d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodID: podID})
		if err != nil {
			return 0, err
		}
		if len(cs) == 0 {
			if _, err := os.Stat(netns); errors.Is(err, os.ErrNotExist) {
				took = time.Since(t0)
				break
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("pod %s not removed within 60s", spec.name)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return took, b.d.waitGone(ctx, 60*time.Second)
}
