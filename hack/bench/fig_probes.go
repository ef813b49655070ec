package main

import (
	"context"
	"fmt"
	"time"
)

// probeSlices is how many parts each CPU window is cut into, for min/max.
const probeSlices = 4

// cpuWindow is the daemon's CPU use over one measuring window.
type cpuWindow struct {
	pcts      []float64 // % of one core, per slice
	cpu       float64   // seconds of CPU over the whole window
	elapsed   float64   // seconds
	probeRuns float64   // probes run in the window (minilet_probe_total)
	floor     probeFloor
}

// figProbes measures the daemon's CPU with b.pods pods of two containers
// (busybox httpd and a sleeper) without probes, then with three probes
// each every second: httpGet readiness and tcpSocket liveness on httpd, a
// tcpSocket readiness on the other container. The difference per probe run
// is the cost of a probe.
func (b *bench) figProbes(ctx context.Context) error {
	without, err := b.measureCPU(ctx, false)
	if err != nil {
		return err
	}
	with, err := b.measureCPU(ctx, true)
	if err != nil {
		return err
	}
	b.logf("probes: agent CPU %.2f%% with, %.2f%% without; %.0f probe runs", 100*with.cpu/with.elapsed, 100*without.cpu/without.elapsed, with.probeRuns)
	f := newFigure("probe_cpu", fmt.Sprintf("agent CPU, %d pods × 3 probes every 1 s (%% of one core)", b.pods), "%", with.pcts, nil)
	f.Suffix = fmt.Sprintf("without probes %s %%", fmtNum(100*without.cpu/without.elapsed))
	f.Extra = map[string]any{"withoutProbes": summarize(without.pcts), "windowSeconds": with.elapsed, "probeRuns": with.probeRuns}
	b.report.add(f)
	if with.probeRuns > 0 {
		extra := (with.cpu/with.elapsed - without.cpu/without.elapsed) * with.elapsed
		per := 1000 * extra / with.probeRuns
		var floor []float64
		if with.floor.paced > 0 {
			floor = []float64{with.floor.paced}
		}
		p := newFigure("probe_cpu_per_run", "agent CPU per probe run (http/tcp)", "ms", []float64{per}, floor)
		p.Suffix = fmt.Sprintf("%.0f runs in %.0f s", with.probeRuns, with.elapsed)
		p.Extra = map[string]any{"floorLoopTCP": with.floor.tcp, "floorLoopHTTP": with.floor.http}
		p.Note = fmt.Sprintf("(CPU with probes − CPU without) / probe runs; ticks of %d ms, so about ±%.3f ms. "+
			"Floor: the bench's own CPU per probe when it sends the same mix (2 TCP connect+close : 1 minimal HTTP GET) to the same pods "+
			"at the same rate from one goroutine; in a tight loop a connect+close costs %.3f ms and a GET %.3f ms, mostly the kernel's TCP work "+
			"through veth, bridge and netfilter",
			1000/clockTicks, 2*1000/float64(clockTicks)/with.probeRuns, with.floor.tcp, with.floor.http)
		b.report.add(p)
	}
	return nil
}

// measureCPU runs the pods, waits until they run (and are Ready), lets them
// settle, and reads the daemon's CPU time over the window.
func (b *bench) measureCPU(ctx context.Context, probes bool) (cpuWindow, error) {
	var w cpuWindow
	tag := "noprobe"
	if probes {
		tag = "probe"
	}
	for j := 0; j < b.pods; j++ {
		spec := podSpec{name: fmt.Sprintf("%s-%02d", tag, j), web: true, probes: probes}
		commit, err := b.d.StageManifest(spec.file(), spec.manifestYAML())
		if err != nil {
			return w, err
		}
		if err := commit(); err != nil {
			return w, err
		}
	}
	if _, err := b.d.waitPods(ctx, 100*time.Millisecond, 180*time.Second, b.allPodsRunning(true)); err != nil {
		return w, err
	}
	if err := sleep(ctx, 3*time.Second); err != nil {
		return w, err
	}
	pid := b.d.PID()
	m0, err := b.d.Metrics(ctx)
	if err != nil {
		return w, err
	}
	start := time.Now()
	ticks0, err := cpuTicks(pid)
	if err != nil {
		return w, err
	}
	prev, prevAt := ticks0, start
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		b.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", int(b.probeWindow.Seconds())), "cpu-"+tag+".pprof", b.probeWindow+30*time.Second)
		if probes {
			b.saveProfile(ctx, "heap", "heap-probes.pprof", 30*time.Second)
			b.saveProfile(ctx, "goroutine", "goroutine-probes.pprof", 30*time.Second)
			b.saveProfile(ctx, "heap?debug=1", "heap-probes.txt", 30*time.Second) // with runtime.MemStats
		}
	}()
	for i := 0; i < probeSlices; i++ {
		if err := sleep(ctx, b.probeWindow/probeSlices); err != nil {
			return w, err
		}
		t, err := cpuTicks(pid)
		if err != nil {
			return w, err
		}
		now := time.Now()
		w.pcts = append(w.pcts, 100*float64(t-prev)/clockTicks/now.Sub(prevAt).Seconds())
		prev, prevAt = t, now
	}
	<-profiled
	w.cpu = float64(prev-ticks0) / clockTicks
	w.elapsed = prevAt.Sub(start).Seconds()
	m1, err := b.d.Metrics(ctx)
	if err != nil {
		return w, err
	}
	w.probeRuns = sumMetric(m1, "minilet_probe_total") - sumMetric(m0, "minilet_probe_total")
	if probes {
		if w.floor, err = b.measureProbeFloor(ctx); err != nil {
			b.warnf("%v", err)
		}
	}
	b.d.RemoveAllManifests()
	return w, b.d.waitNoPods(ctx, 180*time.Second)
}

// measureProbeFloor measures the probe floor against the running pods.
func (b *bench) measureProbeFloor(ctx context.Context) (probeFloor, error) {
	pods, err := b.d.pods(ctx)
	if err != nil {
		return probeFloor{}, err
	}
	var ips []string
	for _, p := range pods {
		if p.Status.PodIP != "" {
			ips = append(ips, p.Status.PodIP)
		}
	}
	return measureProbeFloor(ctx, ips, 3*float64(len(ips)))
}
