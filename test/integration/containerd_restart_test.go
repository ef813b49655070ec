package integration

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestContainerdRestart: containerd stops under a running minilet. Pods keep
// running (the shims own them); an exit that happens while containerd is
// down is caught up on after it returns; new manifests are handled again.
func TestContainerdRestart(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("steady.yaml", sleeperPod("steady", ""))
	p := d.waitPod("steady", 60*time.Second, "runs", allRunning)
	pause, pids := d.pids(p)

	env.containerd.stop()
	restarted := false
	defer func() {
		if !restarted {
			_ = env.containerd.start(filepath.Join(env.containerd.dir, "config.toml"))
		}
	}()
	if !processAlive(pause) || !processAlive(pids["main"]) {
		t.Fatal("stopping containerd killed the pod")
	}
	// The container dies while containerd is away.
	if err := syscall.Kill(int(pids["main"]), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := env.containerd.start(filepath.Join(env.containerd.dir, "config.toml")); err != nil {
		t.Fatal(err)
	}
	restarted = true

	again := d.waitPod("steady", 60*time.Second, "has restarted its container", func(p *v1.Pod) error {
		if err := allRunning(p); err != nil {
			return err
		}
		if rc := p.Status.ContainerStatuses[0].RestartCount; rc != 1 {
			return fmt.Errorf("restartCount %d", rc)
		}
		return nil
	})
	if pause2, _ := d.pids(again); pause2 != pause {
		t.Errorf("the pause container was replaced (%d → %d)", pause, pause2)
	}
	d.writeManifest("after.yaml", sleeperPod("after", ""))
	d.waitPod("after", 60*time.Second, "runs after containerd came back", allRunning)
}
