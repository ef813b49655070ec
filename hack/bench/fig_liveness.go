package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// probePeriod is the liveness probe's periodSeconds.
const probePeriod = time.Second

// figLiveness breaks a liveness probe (period 1s, failureThreshold 1) and
// measures from the break to the new container's StartedAt, for an exec
// probe (`cat /tmp/ok`, broken by removing the file through
// /proc/<pid>/root) and an httpGet probe (busybox httpd serving /ok,
// broken the same way). A new pod each run, so every restart is the first
// (no back-off). The breaks are spread evenly over one probe period
// (counted from the container's StartedAt, where minilet's probe ticks
// start), so the figure samples every phase between a break and the next
// probe. The floor is the same kill and start done directly (SIGKILL the
// container, create and start attempt 1).
func (b *bench) figLiveness(ctx context.Context) error {
	for _, v := range []struct {
		key, short, title, file string
		spec                    func(name string) podSpec
	}{
		{"liveness_restart", "live", "liveness probe (exec) broken → new container running (period 1 s)", "/tmp/ok",
			func(n string) podSpec { return podSpec{name: n, liveness: true} }},
		{"liveness_http_restart", "livehttp", "liveness probe (httpGet) broken → new container running (period 1 s)", "/www/ok",
			func(n string) podSpec { return podSpec{name: n, livenessHTTP: true} }},
	} {
		var xs, restart, floor []float64
		for i := 0; i < b.runs; i++ {
			phase := time.Duration((float64(i) + 0.5) / float64(b.runs) * float64(probePeriod))
			took, exitToStart, err := b.livenessRun(ctx, v.spec(fmt.Sprintf("%s-%d", v.short, i)), v.file, phase)
			if err != nil {
				return err
			}
			fl, err := b.floorRestart(ctx, v.spec(fmt.Sprintf("fl-%s-%d", v.short, i)))
			if err != nil {
				return err
			}
			xs, restart, floor = append(xs, ms(took)), append(restart, ms(exitToStart)), append(floor, ms(fl))
			b.logf("%s %d/%d (broken %.0f ms into a period): new container running %.0f ms after, %.0f ms after the old one exited; floor kill + start %.0f ms",
				v.key, i+1, b.runs, ms(phase), ms(took), ms(exitToStart), ms(fl))
		}
		f := newFigure(v.key, v.title, "ms", xs, floor)
		rs := summarize(restart)
		f.Extra = map[string]any{"exitToStartMs": rs}
		f.Suffix = fmt.Sprintf("old container exit → new start %s ms", fmtNum(rs.Median))
		f.Note = "from breaking the probe to the new container's StartedAt, breaks spread evenly over the probe period: the median waits about half a period for the next probe, the max nearly a whole one; the floor is only the kill and the start, so the ratio includes that wait"
		b.report.add(f)
	}
	return nil
}

// floorRestart makes the pod through the floor, restarts its app container
// directly, and removes the pod; it returns the restart's time.
func (b *bench) floorRestart(ctx context.Context, spec podSpec) (time.Duration, error) {
	mp, err := decodePod(spec, "bench")
	if err != nil {
		return 0, err
	}
	fp, err := b.f.prepare(mp)
	if err != nil {
		return 0, err
	}
	if _, err := b.f.start(ctx, fp); err != nil {
		return 0, err
	}
	took, err := b.f.restartApp(ctx, fp)
	if err != nil {
		return 0, err
	}
	_, err = b.f.remove(ctx, fp)
	return took, err
}

func (b *bench) livenessRun(ctx context.Context, spec podSpec, probeFile string, phase time.Duration) (took, exitToStart time.Duration, err error) {
	commit, err := b.d.StageManifest(spec.file(), spec.manifestYAML())
	if err != nil {
		return 0, 0, err
	}
	if err := commit(); err != nil {
		return 0, 0, err
	}
	p, err := b.d.waitPod(ctx, spec.name, 20*time.Millisecond, 60*time.Second, allRunning(1))
	if err != nil {
		return 0, 0, err
	}
	uid := string(p.UID)
	first, err := b.appAttempt(ctx, uid, 0)
	if err != nil {
		return 0, 0, err
	}
	okFile := fmt.Sprintf("/proc/%d/root%s", first.PID, probeFile)
	// Wait for the container to have made the file.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(okFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%s never appeared", okFile)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	// Break it at the chosen phase of a period, a second or two in, so the
	// probe has passed at least once.
	at := first.StartedAt.Add(2*probePeriod + phase)
	for time.Until(at) < 500*time.Millisecond {
		at = at.Add(probePeriod)
	}
	if err := sleep(ctx, time.Until(at)); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if err := os.Remove(okFile); err != nil {
		return 0, 0, fmt.Errorf("break the probe: %w", err)
	}
	if _, err := b.d.waitPod(ctx, spec.name, 5*time.Millisecond, 30*time.Second, func(p *v1.Pod) error {
		if err := allRunning(1)(p); err != nil {
			return err
		}
		if rc := p.Status.ContainerStatuses[0].RestartCount; rc != 1 {
			return fmt.Errorf("restartCount %d", rc)
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	second, err := b.appAttempt(ctx, uid, 1)
	if err != nil {
		return 0, 0, err
	}
	old, err := b.d.rt.ContainerStatus(ctx, first.ID)
	if err != nil {
		return 0, 0, err
	}
	if old.FinishedAt.IsZero() {
		return 0, 0, fmt.Errorf("container %s: no exit time", first.ID)
	}
	took, exitToStart = second.StartedAt.Sub(t0), second.StartedAt.Sub(old.FinishedAt)
	if err := sleep(ctx, settle); err != nil {
		return 0, 0, err
	}
	_, err = b.miniletRemove(ctx, spec)
	return took, exitToStart, err
}

// appAttempt finds the running app container of the pod with the given
// restart count.
func (b *bench) appAttempt(ctx context.Context, uid string, attempt int) (runtime.Container, error) {
	cs, err := b.d.containers(ctx, uid)
	if err != nil {
		return runtime.Container{}, err
	}
	for _, c := range cs {
		if c.Labels[podsandbox.LabelContainerType] == podsandbox.TypeApp && c.Labels[podsandbox.LabelRestartCount] == fmt.Sprint(attempt) &&
			c.State == runtime.StateRunning && !c.StartedAt.IsZero() {
			return c, nil
		}
	}
	return runtime.Container{}, errors.New("no running app container of attempt " + fmt.Sprint(attempt))
}
