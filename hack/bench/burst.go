package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
)

// A start figure compares three sides, made alike and timed alike: from
// just before the first manifest write (minilet) or the first call (the
// floors) to the TaskStart event of each pod's last app container in
// containerd's event stream.
const (
	sideMinilet = "minilet"
	sideLean    = "lean floor"
	sideChoices = "lean floor + minilet's choices"
)

// burst is what one side's start of a set of pods took.
type burst struct {
	total  time.Duration   // to the last app container's TaskStart
	perPod []time.Duration // each pod's last app TaskStart, from the start
	parts  []leanTimes     // a floor's steps, pod by pod
	// For minilet's phases: the start, the TaskStart times by container
	// ID, and where the burst's lines start in the daemon's log.
	t0        time.Time
	starts    map[string]time.Time
	logOffset int64
	// cpu is the busy CPU time of the whole machine from the start to
	// the last TaskStart seen; agent the daemon's own part of it.
	cpu, agent time.Duration
}

// cpuMeter reads the machine's (and a process's) CPU time around a burst.
type cpuMeter struct {
	pid              int // 0: no agent
	machine0, agent0 int64
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, machine0: machineCPU()}
	if pid > 0 {
		m.agent0, _ = cpuTicks(pid)
	}
	return m
}

func (m cpuMeter) stop(b *burst) {
	tick := time.Second / clockTicks
	b.cpu = time.Duration(machineCPU()-m.machine0) * tick
	if m.pid > 0 {
		a, _ := cpuTicks(m.pid)
		b.agent = time.Duration(a-m.agent0) * tick
	}
}

// podKey groups container IDs by pod: every ID the bench's sides make
// starts with the pod's key and a dash (minilet's and the floor's pod
// ID, the lean floor's pod name).
func podKey(id string) string {
	k, _, _ := strings.Cut(id, "-")
	return k
}

// burstOf turns TaskStart times into a burst from t0.
func burstOf(t0 time.Time, starts map[string]time.Time) burst {
	last := map[string]time.Time{}
	for id, at := range starts {
		k := podKey(id)
		if at.After(last[k]) {
			last[k] = at
		}
	}
	var b burst
	for _, at := range last {
		b.perPod = append(b.perPod, at.Sub(t0))
	}
	sort.Slice(b.perPod, func(i, j int) bool { return b.perPod[i] < b.perPod[j] })
	if n := len(b.perPod); n > 0 {
		b.total = b.perPod[n-1]
	}
	return b
}

// miniletBurst writes the pods' manifests into the manifest directory the
// way cp or an editor does (open, write, close: not an atomic rename), one
// after another as fast as possible, and waits for their app containers'
// TaskStart events. It then waits, untimed, until the API lists them all
// running.
func (b *bench) miniletBurst(ctx context.Context, specs []podSpec) (burst, error) {
	b.clock.forget()
	var profiled sync.WaitGroup
	defer profiled.Wait()
	if b.profileDir != "" && len(specs) > 1 {
		// The daemon's CPU profile over the burst, one file per run:
		// merge them with `go tool pprof -proto a b ... > all.pprof`.
		secs := 1 + len(specs)/15
		name := fmt.Sprintf("cpu-burst-%d-%s.pprof", len(specs), specs[0].name)
		profiled.Add(1)
		go func() {
			defer profiled.Done()
			b.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", secs), name, time.Duration(secs+30)*time.Second)
		}()
		// Let the profiler start before the first write.
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return burst{}, err
		}
	}
	want := 0
	for _, s := range specs {
		want += s.count()
	}
	offset := b.logOffset()
	cpu := startCPU(b.d.PID())
	t0 := time.Now()
	for _, s := range specs {
		if err := os.WriteFile(filepath.Join(b.d.Manifests, s.file()), []byte(s.manifestYAML()), 0o644); err != nil {
			return burst{}, err
		}
	}
	starts, err := b.clock.wait(ctx, b.d.Namespace, t0, want, isApp, 300*time.Second)
	if err != nil {
		return burst{}, fmt.Errorf("minilet: %w; see %s", err, b.d.logPath)
	}
	bu := burstOf(t0, starts)
	cpu.stop(&bu)
	bu.t0, bu.starts, bu.logOffset = t0, starts, offset
	if !b.d.outside() {
		if _, err := b.d.waitPods(ctx, 20*time.Millisecond, 120*time.Second, b.allListedRunning(specs)); err != nil {
			return burst{}, err
		}
	}
	return bu, nil
}

// leanBurst makes the pods through a lean floor, each in its own
// goroutine.
func (b *bench) leanBurst(ctx context.Context, l *leanFloor, specs []podSpec) (burst, error) {
	b.clock.forget()
	want := 0
	for _, s := range specs {
		want += s.count()
	}
	times := make([]leanTimes, len(specs))
	cpu := startCPU(0)
	t0 := time.Now()
	err := inParallel(len(specs), func(i int) (err error) {
		times[i], err = l.start(ctx, leanName(specs[i].name), specs[i].count())
		return err
	})
	if err != nil {
		return burst{}, err
	}
	starts, err := b.clock.wait(ctx, l.namespace, t0, want, isApp, 60*time.Second)
	if err != nil {
		return burst{}, err
	}
	bu := burstOf(t0, starts)
	cpu.stop(&bu)
	bu.parts = times
	return bu, nil
}

// leanName is a lean pod's name: no dash, so podKey finds it in its IDs.
func leanName(name string) string { return strings.ReplaceAll(name, "-", "x") }

// allListedRunning holds when the API lists every pod of specs with all
// its containers running.
func (b *bench) allListedRunning(specs []podSpec) func([]v1.Pod) error {
	return func(ps []v1.Pod) error {
		byName := map[string]*v1.Pod{}
		for i := range ps {
			byName[ps[i].Name] = &ps[i]
		}
		for _, s := range specs {
			p := byName[s.name]
			if p == nil {
				return fmt.Errorf("pod %s not listed", s.name)
			}
			if err := allRunning(s.count())(p); err != nil {
				return fmt.Errorf("pod %s: %w", s.name, err)
			}
		}
		return nil
	}
}

// removeManifests removes the pods' manifest files (and only those: with
// -outside the directory is the host's).
func (b *bench) removeManifests(specs []podSpec) error {
	var errs []error
	for _, s := range specs {
		if err := os.Remove(filepath.Join(b.d.Manifests, s.file())); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeBenchManifests removes every manifest file the bench may have
// written (after a failure).
func (b *bench) removeBenchManifests() {
	files, _ := filepath.Glob(filepath.Join(b.d.Manifests, benchFilePrefix+"*.yaml"))
	for _, f := range files {
		_ = os.Remove(f)
	}
}

// inParallel runs fn(0) … fn(n-1) each in its own goroutine and returns
// their errors joined, once all have returned.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
