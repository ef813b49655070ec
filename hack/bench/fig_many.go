package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// figManyPods measures b.pods pods written at once until all run, against
// the floor making them in parallel goroutines; with those pods running it
// samples the agent's RSS and each pod's shim and pause RSS. The last
// run's pods stay for the daemon restart figure.
func (b *bench) figManyPods(ctx context.Context) error {
	var mStart, fStart, rss []float64
	var split []rssSplit
	var mMem, fMem podMemory
	for i := 0; i < b.runs; i++ {
		last := i == b.runs-1
		sides := []func() error{
			func() error {
				took, pauses, err := b.miniletMany(ctx, i)
				if err != nil {
					return err
				}
				mStart = append(mStart, ms(took))
				if err := sleep(ctx, time.Second); err != nil {
					return err
				}
				r, err := rssMiB(b.d.PID())
				if err != nil {
					return err
				}
				rss = append(rss, r)
				sp, err := readRSSSplit(b.d.PID())
				if err != nil {
					return err
				}
				split = append(split, sp)
				mem, err := b.perPodMemory(pauses)
				if err != nil {
					return err
				}
				mMem.add(mem)
				if last {
					return nil // kept for the restart figure
				}
				b.d.RemoveAllManifests()
				return b.d.waitNoPods(ctx, 180*time.Second)
			},
			func() error {
				took, pauses, err := b.floorMany(ctx, i)
				if err != nil {
					return err
				}
				fStart = append(fStart, ms(took))
				if err := sleep(ctx, time.Second); err != nil {
					return err
				}
				mem, err := b.perPodMemory(pauses)
				if err != nil {
					return err
				}
				fMem.add(mem)
				return b.f.removeAll(ctx)
			},
		}
		// The floor goes first on the last run, so the daemon's pods are
		// the ones left running.
		if i%2 == 1 || last {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
		b.logf("%d pods at once %d/%d: minilet %.0f ms, floor %.0f ms; agent RSS %.1f MiB",
			b.pods, i+1, b.runs, mStart[i], fStart[i], rss[i])
	}
	f := newFigure("pods_start", fmt.Sprintf("%d pods at once → all running", b.pods), "ms", mStart, fStart)
	f.Note = "floor makes the pods in parallel goroutines, each pod's steps in sequence"
	b.report.add(f)
	rf := newFigure("rss_pods", fmt.Sprintf("agent RSS with %d pods", b.pods), "MiB", rss, nil)
	splitFigure(rf, split)
	b.report.add(rf)
	shim := newFigure("shim_rss", "per pod: shim RSS", "MiB", mMem.shim, fMem.shim)
	shim.Extra = map[string]any{"shimsMinilet": mMem.shims, "shimsFloor": fMem.shims,
		"pssMinilet": summarize(mMem.shimPss), "pssFloor": summarize(fMem.shimPss)}
	shim.Suffix = fmt.Sprintf("%d shims for %d pods", mMem.shims, b.pods)
	if s := summarize(mMem.shimPss); s != nil {
		shim.Note = fmt.Sprintf("PSS (shared pages split among the shims) %s MiB", fmtNum(s.Median))
	}
	b.report.add(shim)
	b.report.add(newFigure("pause_rss", "per pod: pause RSS", "MiB", mMem.pause, fMem.pause))
	if len(mMem.driver) > 0 || len(fMem.driver) > 0 {
		d := newFigure("logdriver_rss", "per container: log driver process RSS", "MiB", mMem.driver, fMem.driver)
		d.Extra = map[string]any{"pssMinilet": summarize(mMem.driverPss), "pssFloor": summarize(fMem.driverPss)}
		d.Note = "the shim runs minilet's log driver (" + filepath.Base(b.bins.logDriver) + ") for each container to write CRI logs; the floor's shim writes the file itself (unless -floor-logs driver)"
		if s := summarize(mMem.driverPss); s != nil {
			d.Note += fmt.Sprintf("; PSS %s MiB", fmtNum(s.Median))
		}
		b.report.add(d)
	}
	return b.figRestart(ctx)
}

// miniletMany writes the pods' manifests as fast as possible and measures
// from just before the first rename to the last app container's start.
// It returns the pause PIDs.
func (b *bench) miniletMany(ctx context.Context, run int) (time.Duration, []int, error) {
	commits := make([]func() error, b.pods)
	for j := range commits {
		spec := podSpec{name: fmt.Sprintf("many%d-%02d", run, j), containers: 1}
		c, err := b.d.StageManifest(spec.name+".yaml", spec.manifestYAML())
		if err != nil {
			return 0, nil, err
		}
		commits[j] = c
	}
	t0 := time.Now()
	for _, c := range commits {
		if err := c(); err != nil {
			return 0, nil, err
		}
	}
	if _, err := b.d.waitPods(ctx, 20*time.Millisecond, 180*time.Second, b.allPodsRunning(false)); err != nil {
		return 0, nil, err
	}
	cs, err := b.d.rt.ListContainers(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	last, err := lastAppStart(cs, b.pods)
	if err != nil {
		return 0, nil, err
	}
	return last.Sub(t0), pausePIDs(cs), nil
}

// allPodsRunning holds when the API lists b.pods pods, each running its
// container (and Ready, if ready).
func (b *bench) allPodsRunning(ready bool) func([]v1.Pod) error {
	return func(ps []v1.Pod) error {
		if len(ps) != b.pods {
			return fmt.Errorf("%d pods listed, want %d", len(ps), b.pods)
		}
		for i := range ps {
			if err := allRunning(len(ps[i].Spec.Containers))(&ps[i]); err != nil {
				return fmt.Errorf("pod %s: %w", ps[i].Name, err)
			}
			if ready {
				if err := podReady(&ps[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func pausePIDs(cs []runtime.Container) []int {
	var out []int
	for _, c := range cs {
		if c.Labels[podsandbox.LabelContainerType] == podsandbox.TypeSandbox && c.State == runtime.StateRunning {
			out = append(out, int(c.PID))
		}
	}
	return out
}

// floorMany makes the pods through the floor, each in its own goroutine,
// and measures from the start to the last app container's StartedAt.
func (b *bench) floorMany(ctx context.Context, run int) (time.Duration, []int, error) {
	fps := make([]*floorPod, b.pods)
	for j := range fps {
		mp, err := decodePod(podSpec{name: fmt.Sprintf("many%d-%02d", run, j), containers: 1}, "bench")
		if err != nil {
			return 0, nil, err
		}
		if fps[j], err = b.f.prepare(mp); err != nil {
			return 0, nil, err
		}
	}
	ends := make([]time.Time, b.pods)
	errs := make([]error, b.pods)
	var wg sync.WaitGroup
	t0 := time.Now()
	for j, fp := range fps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := b.f.start(ctx, fp)
			ends[j], errs[j] = t.end, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	var last time.Time
	pauses := make([]int, b.pods)
	for j, e := range ends {
		if e.After(last) {
			last = e
		}
		pauses[j] = int(fps[j].pausePID)
	}
	return last.Sub(t0), pauses, nil
}

// podMemory is what the pods' own processes hold, one sample per process.
type podMemory struct {
	shim, pause, driver []float64 // RSS, MiB
	shimPss, driverPss  []float64 // PSS, MiB
	shims               int
}

func (m *podMemory) add(o podMemory) {
	m.shim, m.pause, m.driver = append(m.shim, o.shim...), append(m.pause, o.pause...), append(m.driver, o.driver...)
	m.shimPss, m.driverPss = append(m.shimPss, o.shimPss...), append(m.driverPss, o.driverPss...)
	m.shims = o.shims
}

// perPodMemory reads, for each pod's pause process, its RSS, its shim's
// (the pause's parent: the shim is the containers' subreaper) and that of
// the log driver processes the shim runs (minilet's), and counts
// the distinct shims.
func (b *bench) perPodMemory(pauses []int) (podMemory, error) {
	var m podMemory
	seen := map[int]bool{}
	for _, p := range pauses {
		pr, err := rssMiB(p)
		if err != nil {
			return m, fmt.Errorf("pause %d: %w", p, err)
		}
		m.pause = append(m.pause, pr)
		sh, err := ppid(p)
		if err != nil {
			return m, fmt.Errorf("shim of pause %d: %w", p, err)
		}
		if seen[sh] {
			continue
		}
		seen[sh] = true
		sr, err := rssMiB(sh)
		if err != nil {
			return m, fmt.Errorf("shim %d: %w", sh, err)
		}
		m.shim = append(m.shim, sr)
		if ps, err := pssMiB(sh); err == nil {
			m.shimPss = append(m.shimPss, ps)
		}
		for _, c := range childrenOf(sh) {
			if exe := exeOf(c); exe != b.bins.logDriver && exe != b.bins.minilet {
				continue
			}
			if r, err := rssMiB(c); err == nil {
				m.driver = append(m.driver, r)
			}
			if ps, err := pssMiB(c); err == nil {
				m.driverPss = append(m.driverPss, ps)
			}
		}
	}
	m.shims = len(seen)
	return m, nil
}

// figRestart stops the daemon with SIGTERM while b.pods pods run, starts it
// again and measures until the API lists every pod Running and Ready; no
// container may have restarted (same IDs and PIDs, restartCount 0).
func (b *bench) figRestart(ctx context.Context) error {
	before, err := b.runningPIDs(ctx)
	if err != nil {
		return err
	}
	var took, api, rss []float64
	restarted := 0
	for i := 0; i < b.runs; i++ {
		if err := b.d.stop(); err != nil {
			return err
		}
		t0 := time.Now()
		if _, err := b.d.StartProcess(); err != nil {
			return err
		}
		var apiAt time.Duration
		var ps []v1.Pod
		deadline := t0.Add(120 * time.Second)
		for {
			var err error
			ps, err = b.d.pods(ctx)
			if err == nil {
				if apiAt == 0 {
					apiAt = time.Since(t0)
				}
				if err = b.allPodsRunning(true)(ps); err == nil {
					break
				}
			}
			if !b.d.Running() {
				return fmt.Errorf("minilet exited after restart; see %s", b.d.logPath)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("restarted daemon: not all pods running and ready within 120s: %w", err)
			}
			if err := sleep(ctx, 5*time.Millisecond); err != nil {
				return err
			}
		}
		took = append(took, ms(time.Since(t0)))
		api = append(api, ms(apiAt))
		n := 0
		for _, p := range ps {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.RestartCount > 0 {
					n++
				}
			}
		}
		after, err := b.runningPIDs(ctx)
		if err != nil {
			return err
		}
		for id, pid := range before {
			if after[id] != pid {
				n++
			}
		}
		if len(after) != len(before) {
			n += abs(len(after) - len(before))
		}
		restarted += n
		if r, err := rssMiB(b.d.PID()); err == nil {
			rss = append(rss, r)
		}
		b.logf("daemon restart %d/%d with %d pods: ready in %.0f ms (API after %.0f ms), %d restarted",
			i+1, b.runs, b.pods, took[i], api[i], n)
	}
	f := newFigure("restart_ready", fmt.Sprintf("daemon restart with %d running pods → all listed Running and Ready", b.pods), "ms", took, nil)
	f.Suffix = fmt.Sprintf("restarted: %d", restarted)
	f.Extra = map[string]any{"restarted": restarted, "apiAnswersMs": summarize(api), "rssAfterRestartMiB": summarize(rss)}
	f.Note = fmt.Sprintf("from starting the new process; its API answered after %s ms (median)", fmtNum(summarize(api).Median))
	b.report.add(f)
	b.d.RemoveAllManifests()
	return b.d.waitNoPods(ctx, 180*time.Second)
}

// runningPIDs maps each running container of the daemon to its PID.
func (b *bench) runningPIDs(ctx context.Context) (map[string]uint32, error) {
	cs, err := b.d.rt.ListContainers(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]uint32{}
	for _, c := range cs {
		if c.State == runtime.StateRunning {
			out[c.ID] = c.PID
		}
	}
	return out, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
