package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// manySpecs are n one-container pods of one run.
func manySpecs(prefix string, run, n int) []podSpec {
	specs := make([]podSpec, n)
	for j := range specs {
		specs[j] = podSpec{name: fmt.Sprintf("%s%d-%03d", prefix, run, j), containers: 1}
	}
	return specs
}

// figManyPods measures b.pods pods written at once until all run, against
// the floors making them in parallel goroutines; with those pods running
// it samples the agent's RSS and each pod's shim and pause RSS. The last
// run's pods stay for the daemon restart figure.
func (b *bench) figManyPods(ctx context.Context) error {
	var mStart, lStart, oStart, rss []float64
	var cpu cpuSamples
	var ph phaseSamples
	var split []rssSplit
	var mMem, fMem podMemory
	for i := 0; i < b.runs; i++ {
		res, err := b.runSides(ctx, i, startRun{specs: manySpecs("many", i, b.pods), keepMinilet: i == b.runs-1 && !b.d.outside(),
			after: func(side string, s *startSample) error {
				if err := sleep(ctx, time.Second); err != nil {
					return err
				}
				mem, err := b.perPodMemory(s.pauses)
				if err != nil {
					return err
				}
				switch side {
				case sideMinilet:
					mMem.add(mem)
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
				case sideChoices:
					fMem.add(mem)
				}
				return nil
			}})
		if err != nil {
			return err
		}
		cpu.add(res, b.pods)
		if err := ph.add(b, res); err != nil {
			return err
		}
		mStart = append(mStart, ms(res[sideMinilet].burst.total))
		lStart = append(lStart, ms(res[sideLean].burst.total))
		oStart = append(oStart, ms(res[sideChoices].burst.total))
		b.logf("%d pods at once %d/%d: minilet %.0f ms, lean %.0f ms, +choices %.0f ms; agent RSS %.1f MiB",
			b.pods, i+1, b.runs, mStart[i], lStart[i], oStart[i], rss[i])
	}
	b.startFigures("pods_start", fmt.Sprintf("%d pods at once → all apps started", b.pods), mStart, lStart, oStart, nil,
		"the floors make the pods in parallel goroutines, each pod's steps in sequence")
	b.addBurstFigures("pods", b.pods, cpu, ph, rss, split)
	shim := newFigure("shim_rss", "per pod: shim RSS", "MiB", mMem.shim, fMem.shim)
	shim.Extra = map[string]any{"shimsMinilet": mMem.shims, "shimsFloor": fMem.shims,
		"pssMinilet": summarize(mMem.shimPss), "pssFloor": summarize(fMem.shimPss)}
	shim.Suffix = fmt.Sprintf("%d shims for %d pods", mMem.shims, b.pods)
	if s := summarize(mMem.shimPss); s != nil {
		shim.Note = fmt.Sprintf("PSS (shared pages split among the shims) %s MiB; floor: lean floor + minilet's choices", fmtNum(s.Median))
	}
	b.report.add(shim)
	pf := newFigure("pause_rss", "per pod: pause RSS", "MiB", mMem.pause, fMem.pause)
	pf.Note = "floor: lean floor + minilet's choices"
	b.report.add(pf)
	if len(mMem.driver) > 0 || len(fMem.driver) > 0 {
		d := newFigure("logdriver_rss", "per container: log driver process RSS", "MiB", mMem.driver, fMem.driver)
		d.Extra = map[string]any{"pssMinilet": summarize(mMem.driverPss), "pssFloor": summarize(fMem.driverPss)}
		d.Note = "the shim runs minilet's log driver (" + filepath.Base(b.bins.logDriver) + ") for each container to write CRI logs"
		if s := summarize(mMem.driverPss); s != nil {
			d.Note += fmt.Sprintf("; PSS %s MiB", fmtNum(s.Median))
		}
		b.report.add(d)
	}
	if b.d.outside() {
		return nil // the host's minilet is not restarted
	}
	return b.figRestart(ctx)
}

// figBurst measures b.burstPods pods at once (the kubelet's default
// max-pods is 110): the whole burst and each pod's start latency (from the
// first write to its app container's TaskStart) at the 50th, 90th and 99th
// percentile over all runs' pods, and the agent's RSS with them running.
func (b *bench) figBurst(ctx context.Context) error {
	var mStart, lStart, oStart, rss []float64
	var mPod, lPod, oPod []float64
	var cpu cpuSamples
	var ph phaseSamples
	var split []rssSplit
	runs := b.burstRuns
	for i := 0; i < runs; i++ {
		res, err := b.runSides(ctx, i, startRun{specs: manySpecs("burst", i, b.burstPods),
			after: func(side string, s *startSample) error {
				if side != sideMinilet {
					return nil
				}
				if err := sleep(ctx, time.Second); err != nil {
					return err
				}
				r, err := rssMiB(b.d.PID())
				if err != nil {
					return err
				}
				rss = append(rss, r)
				sp, err := readRSSSplit(b.d.PID())
				split = append(split, sp)
				return err
			}})
		if err != nil {
			return err
		}
		m, l, o := res[sideMinilet].burst, res[sideLean].burst, res[sideChoices].burst
		cpu.add(res, b.burstPods)
		if err := ph.add(b, res); err != nil {
			return err
		}
		mStart, lStart, oStart = append(mStart, ms(m.total)), append(lStart, ms(l.total)), append(oStart, ms(o.total))
		for _, d := range m.perPod {
			mPod = append(mPod, ms(d))
		}
		for _, d := range l.perPod {
			lPod = append(lPod, ms(d))
		}
		for _, d := range o.perPod {
			oPod = append(oPod, ms(d))
		}
		b.logf("%d pods at once %d/%d: minilet %.0f ms, lean %.0f ms, +choices %.0f ms; agent RSS %.1f MiB",
			b.burstPods, i+1, runs, mStart[i], lStart[i], oStart[i], rss[i])
	}
	b.startFigures("burst_start", fmt.Sprintf("%d pods at once → all apps started", b.burstPods), mStart, lStart, oStart, nil,
		"the floors make the pods in parallel goroutines, each pod's steps in sequence")
	for _, q := range []float64{50, 90, 99} {
		f := newFigure(fmt.Sprintf("burst_pod_p%.0f", q), fmt.Sprintf("%d pods at once: per-pod start, %.0fth percentile", b.burstPods, q), "ms",
			[]float64{percentile(mPod, q)}, []float64{percentile(lPod, q)})
		f.Note = fmt.Sprintf("floor: lean floor (lean floor + minilet's choices: %s ms); over the %d pods of %d runs", fmtNum(percentile(oPod, q)), len(mPod), runs)
		b.report.add(f)
	}
	b.addBurstFigures("burst", b.burstPods, cpu, ph, rss, split)
	return nil
}

// percentile is the q-th percentile (nearest rank) of xs.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	k := int(math.Ceil(q/100*float64(len(s)))) - 1
	if k < 0 {
		k = 0
	}
	return s[k]
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
			if exe := exeOf(c); filepath.Base(exe) != "minilet-log-driver" && exe != b.bins.minilet {
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

// cpuSamples are the machine's busy CPU time per pod during bursts.
type cpuSamples struct{ m, agent, lean, choices []float64 }

func (c *cpuSamples) add(res map[string]startSample, pods int) {
	per := func(d time.Duration) float64 { return ms(d) / float64(pods) }
	c.m = append(c.m, per(res[sideMinilet].burst.cpu))
	c.agent = append(c.agent, per(res[sideMinilet].burst.agent))
	c.lean = append(c.lean, per(res[sideLean].burst.cpu))
	c.choices = append(c.choices, per(res[sideChoices].burst.cpu))
}

func (c *cpuSamples) figure(key string, pods int) *Figure {
	f := newFigure(key, fmt.Sprintf("%d pods at once: machine CPU per pod", pods), "ms", c.m, c.lean)
	f.Suffix = fmt.Sprintf("minilet's own %s ms", fmtNum(summarize(c.agent).Median))
	f.Note = fmt.Sprintf("busy CPU time of all processors (/proc/stat) from the first write or call to the last TaskStart seen, over the pods; floor: lean floor (its client calls included); lean floor + minilet's choices: %s ms", fmtNum(summarize(c.choices).Median))
	return f
}

// addBurstFigures adds what the many-pods and burst figures share: machine
// CPU per pod, the phases, and the agent's RSS with the pods running.
func (b *bench) addBurstFigures(key string, pods int, cpu cpuSamples, ph phaseSamples, rss []float64, split []rssSplit) {
	b.report.add(cpu.figure(key+"_cpu", pods))
	for _, f := range ph.figures(key, pods) {
		b.report.add(f)
	}
	rf := newFigure("rss_"+key, fmt.Sprintf("agent RSS with %d pods", pods), "MiB", rss, nil)
	splitFigure(rf, split)
	b.report.add(rf)
}
