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

// figLiveness breaks a liveness probe (exec `cat /tmp/ok`, period 1s,
// failureThreshold 1) by removing the file through /proc/<pid>/root, and
// measures from the removal to the new container's StartedAt. A new pod
// each run, so every restart is the first (no back-off).
func (b *bench) figLiveness(ctx context.Context) error {
	var xs []float64
	for i := 0; i < b.runs; i++ {
		took, err := b.livenessRun(ctx, podSpec{name: fmt.Sprintf("live-%d", i), liveness: true})
		if err != nil {
			return err
		}
		xs = append(xs, ms(took))
		b.logf("liveness %d/%d: new container running %.0f ms after the probe broke", i+1, b.runs, ms(took))
	}
	f := newFigure("liveness_restart", "liveness probe broken → new container running (period 1 s)", "ms", xs, nil)
	f.Note = "from removing the probed file to the new container's StartedAt; the probe's phase against the removal is random, so expect about half a period plus kill and start"
	b.report.add(f)
	return nil
}

func (b *bench) livenessRun(ctx context.Context, spec podSpec) (time.Duration, error) {
	file := spec.name + ".yaml"
	commit, err := b.d.stageManifest(file, spec.manifestYAML())
	if err != nil {
		return 0, err
	}
	if err := commit(); err != nil {
		return 0, err
	}
	p, err := b.d.waitPod(ctx, spec.name, 20*time.Millisecond, 60*time.Second, allRunning(1))
	if err != nil {
		return 0, err
	}
	uid := string(p.UID)
	first, err := b.appAttempt(ctx, uid, 0)
	if err != nil {
		return 0, err
	}
	okFile := fmt.Sprintf("/proc/%d/root/tmp/ok", first.PID)
	// Let the probe pass a time or two first.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(okFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s never appeared", okFile)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
	if err := sleep(ctx, 1500*time.Millisecond); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := os.Remove(okFile); err != nil {
		return 0, fmt.Errorf("break the probe: %w", err)
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
		return 0, err
	}
	second, err := b.appAttempt(ctx, uid, 1)
	if err != nil {
		return 0, err
	}
	took := second.StartedAt.Sub(t0)
	if err := sleep(ctx, settle); err != nil {
		return 0, err
	}
	_, err = b.miniletRemove(ctx, file, uid)
	return took, err
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
