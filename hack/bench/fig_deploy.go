package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deploymentYAML is a Deployment of n pods like the "many" figure's (one
// container that exits on SIGTERM); version goes into an env var, so a new
// version is a new template.
func deploymentYAML(name string, n int, version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: app0
        image: %[3]s
        command: ["sh", "-c", %[4]q]
        env: [{name: VERSION, value: "%[5]s"}]
`, name, n, busyboxImage, stopOnTerm, version)
}

// deployFile is the Deployment's manifest file.
func deployFile(name string) string { return benchFilePrefix + name + ".yaml" }

// deployPods is a waitPods condition: n pods of the Deployment listed,
// every one running, none stopping, none of template hash old.
func deployPods(deploy string, n int, old string) func([]v1.Pod) error {
	return func(ps []v1.Pod) error {
		got := 0
		for i := range ps {
			p := &ps[i]
			c := metav1.GetControllerOf(p)
			if c == nil || c.Kind != "ReplicaSet" || p.Labels["app"] != deploy {
				continue
			}
			if p.DeletionTimestamp != nil || (old != "" && p.Labels["pod-template-hash"] == old) {
				return fmt.Errorf("pod %s of the old version still there", p.Name)
			}
			if err := allRunning(1)(p); err != nil {
				return fmt.Errorf("pod %s: %w", p.Name, err)
			}
			got++
		}
		if got != n {
			return fmt.Errorf("%d pods of %s, want %d", got, deploy, n)
		}
		return nil
	}
}

// miniletDeployBurst writes one Deployment of n replicas and times it to
// its n app containers' TaskStart events, as miniletBurst times n pod
// files.
func (b *bench) miniletDeployBurst(ctx context.Context, name string, n int) (burst, error) {
	b.clock.forget()
	offset := b.logOffset()
	cpu := startCPU(b.d.PID())
	t0 := time.Now()
	if err := os.WriteFile(filepath.Join(b.d.Manifests, deployFile(name)), []byte(deploymentYAML(name, n, "1")), 0o644); err != nil {
		return burst{}, err
	}
	starts, err := b.clock.wait(ctx, b.d.Namespace, t0, n, isApp, 300*time.Second)
	if err != nil {
		return burst{}, fmt.Errorf("minilet: %w; see %s", err, b.d.logPath)
	}
	bu := burstOf(t0, starts)
	cpu.stop(&bu)
	bu.t0, bu.starts, bu.logOffset = t0, starts, offset
	if _, err := b.d.waitPods(ctx, 20*time.Millisecond, 120*time.Second, deployPods(name, n, "")); err != nil {
		return burst{}, err
	}
	return bu, nil
}

// figDeployment measures a Deployment of b.pods replicas written at once
// until all its pods run, beside the floors making b.pods pods in
// parallel (the "many" figure's floors, in the same run); then the rolling
// update of a 10-replica Deployment (defaults 25 %/25 %) to a new template:
// manifest written → every new pod running and every old one gone.
func (b *bench) figDeployment(ctx context.Context) error {
	var mStart, lStart, oStart []float64
	for i := 0; i < b.runs; i++ {
		name := fmt.Sprintf("deploy%d", i)
		res, err := b.runSides(ctx, i, startRun{specs: manySpecs("dfloor", i, b.pods),
			minilet: func(ctx context.Context) (burst, error) { return b.miniletDeployBurst(ctx, name, b.pods) },
			removeMinilet: func() error {
				return os.Remove(filepath.Join(b.d.Manifests, deployFile(name)))
			}})
		if err != nil {
			return err
		}
		mStart = append(mStart, ms(res[sideMinilet].burst.total))
		lStart = append(lStart, ms(res[sideLean].burst.total))
		oStart = append(oStart, ms(res[sideChoices].burst.total))
		b.logf("Deployment of %d replicas %d/%d: minilet %.0f ms, lean %.0f ms (%d pods), +choices %.0f ms",
			b.pods, i+1, b.runs, mStart[i], lStart[i], b.pods, oStart[i])
	}
	b.startFigures("deploy_start", fmt.Sprintf("Deployment of %d replicas → all apps started", b.pods), mStart, lStart, oStart, nil,
		fmt.Sprintf("the floors make %d pods in parallel goroutines (no controller)", b.pods))

	const replicas = 10
	var roll []float64
	for i := 0; i < b.runs; i++ {
		if err := b.settler.settle(ctx); err != nil {
			return err
		}
		name := fmt.Sprintf("roll%d", i)
		path := filepath.Join(b.d.Manifests, deployFile(name))
		if err := os.WriteFile(path, []byte(deploymentYAML(name, replicas, "1")), 0o644); err != nil {
			return err
		}
		ps, err := b.d.waitPods(ctx, 20*time.Millisecond, 120*time.Second, deployPods(name, replicas, ""))
		if err != nil {
			return err
		}
		old := ""
		for _, p := range ps {
			if p.Labels["app"] == name {
				old = p.Labels["pod-template-hash"]
			}
		}
		if err := sleep(ctx, settle); err != nil {
			return err
		}
		t0 := time.Now()
		if err := os.WriteFile(path, []byte(deploymentYAML(name, replicas, "2")), 0o644); err != nil {
			return err
		}
		if _, err := b.d.waitPods(ctx, 10*time.Millisecond, 300*time.Second, deployPods(name, replicas, old)); err != nil {
			return err
		}
		roll = append(roll, ms(time.Since(t0)))
		b.logf("rolling update of %d replicas %d/%d: %.0f ms", replicas, i+1, b.runs, roll[i])
		if err := os.Remove(path); err != nil {
			return err
		}
		if err := b.d.waitGone(ctx, 300*time.Second); err != nil {
			return err
		}
	}
	f := newFigure("deploy_rollout", fmt.Sprintf("rolling update of a %d-replica Deployment (maxSurge 25%%, maxUnavailable 25%%) → all new pods running, old ones gone", replicas), "ms", roll, nil)
	f.Note = "no floor: a rollout is the controller's own work; polled through the API every 10 ms"
	b.report.add(f)
	return nil
}
