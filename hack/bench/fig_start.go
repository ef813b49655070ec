package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/types"

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

// figOnePod measures a 1-container pod's start (manifest written → all
// running) and its removal (manifest removed → containers and netns gone),
// against the floor's sequential start and its delete. One warm-up run on
// each side is not counted.
func (b *bench) figOnePod(ctx context.Context) error {
	var mStart, fStart, mRemove, fRemove, pause, cni, app []float64
	for i := -1; i < b.runs; i++ {
		spec := podSpec{name: fmt.Sprintf("one-%d", i+1), containers: 1}
		// Alternate which side goes first, so drift on the machine
		// weighs on both alike.
		sides := []func() error{
			func() error {
				start, remove, err := b.miniletStartRemove(ctx, spec)
				if err == nil && i >= 0 {
					mStart, mRemove = append(mStart, ms(start)), append(mRemove, ms(remove))
				}
				return err
			},
			func() error {
				t, remove, err := b.floorStartRemove(ctx, spec)
				if err == nil && i >= 0 {
					fStart, fRemove = append(fStart, ms(t.total)), append(fRemove, ms(remove))
					pause, cni, app = append(pause, ms(t.pause)), append(cni, ms(t.cni)), append(app, ms(t.app))
				}
				return err
			},
		}
		if i%2 != 0 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
		if i >= 0 {
			b.logf("1-container pod %d/%d: start minilet %.0f ms, floor %.0f ms; removal minilet %.0f ms, floor %.0f ms",
				i+1, b.runs, mStart[i], fStart[i], mRemove[i], fRemove[i])
		}
	}
	f := newFigure("pod1_start", "1-container pod, manifest → all running", "ms", mStart, fStart)
	f.FloorParts = []Part{{"pause", summarize(pause)}, {"CNI", summarize(cni)}, {"app", summarize(app)}}
	b.report.add(f)
	r := newFigure("pod_removal", "pod removal (grace 30 s, exits on SIGTERM) → containers and netns gone", "ms", mRemove, fRemove)
	b.report.add(r)
	return nil
}

// figThreeContainers measures a 3-container pod's start against the floor
// creating its apps one after another.
func (b *bench) figThreeContainers(ctx context.Context) error {
	var mStart, fStart, pause, cni, app []float64
	for i := 0; i < b.runs; i++ {
		spec := podSpec{name: fmt.Sprintf("three-%d", i), containers: 3}
		sides := []func() error{
			func() error {
				start, _, err := b.miniletStartRemove(ctx, spec)
				if err == nil {
					mStart = append(mStart, ms(start))
				}
				return err
			},
			func() error {
				t, _, err := b.floorStartRemove(ctx, spec)
				if err == nil {
					fStart = append(fStart, ms(t.total))
					pause, cni, app = append(pause, ms(t.pause)), append(cni, ms(t.cni)), append(app, ms(t.app))
				}
				return err
			},
		}
		if i%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
		b.logf("3-container pod %d/%d: minilet %.0f ms, floor %.0f ms", i+1, b.runs, mStart[i], fStart[i])
	}
	f := newFigure("pod3_start", "3-container pod, manifest → all running", "ms", mStart, fStart)
	f.FloorParts = []Part{{"pause", summarize(pause)}, {"CNI", summarize(cni)}, {"apps", summarize(app)}}
	f.Note = "floor creates and starts the three apps one after another"
	b.report.add(f)
	return nil
}

// miniletStartRemove writes the pod's manifest and measures until all its
// containers run, then removes it and measures until its containers and
// netns are gone.
func (b *bench) miniletStartRemove(ctx context.Context, spec podSpec) (start, remove time.Duration, err error) {
	file := spec.name + ".yaml"
	commit, err := b.d.StageManifest(file, spec.manifestYAML())
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if err := commit(); err != nil {
		return 0, 0, err
	}
	p, err := b.d.waitPod(ctx, spec.name, 5*time.Millisecond, 60*time.Second, allRunning(spec.count()))
	if err != nil {
		return 0, 0, err
	}
	last, err := b.d.lastStarted(ctx, string(p.UID), spec.count())
	if err != nil {
		return 0, 0, err
	}
	start = last.Sub(t0)
	if err := sleep(ctx, settle); err != nil {
		return 0, 0, err
	}
	remove, err = b.miniletRemove(ctx, file, string(p.UID))
	return start, remove, err
}

// miniletRemove removes a manifest and measures until containerd holds
// none of the pod's containers and its netns file is gone (polled every
// 5ms); then it waits, untimed, until the API no longer lists it.
func (b *bench) miniletRemove(ctx context.Context, file, uid string) (time.Duration, error) {
	netns := filepath.Join(b.d.RunDir, "netns", podsandbox.PodID(types.UID(uid)))
	t0 := time.Now()
	if err := b.d.RemoveManifest(file); err != nil {
		return 0, err
	}
	deadline := t0.Add(60 * time.Second)
	var took time.Duration
	for {
		cs, err := b.d.containers(ctx, uid)
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
			return 0, fmt.Errorf("pod of %s not removed within 60s", file)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return took, b.d.waitNoPods(ctx, 60*time.Second)
}

// floorStartRemove makes the pod through the floor and removes it.
func (b *bench) floorStartRemove(ctx context.Context, spec podSpec) (floorTimes, time.Duration, error) {
	mp, err := decodePod(spec, "bench")
	if err != nil {
		return floorTimes{}, 0, err
	}
	fp, err := b.f.prepare(mp)
	if err != nil {
		return floorTimes{}, 0, err
	}
	t, err := b.f.start(ctx, fp)
	if err != nil {
		return t, 0, err
	}
	if err := sleep(ctx, settle); err != nil {
		return t, 0, err
	}
	remove, err := b.f.remove(ctx, fp)
	return t, remove, err
}
