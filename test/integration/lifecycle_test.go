package integration

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func sleeperPod(name, extra string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: ["sleep", "3600"]
%s`, name, BusyboxImage, extra)
}

// TestManifestLifecycle: a new file starts a pod, an edit replaces it (new
// UID, old containers gone), a deletion stops it, and nothing is left:
// containers, active snapshots, netns, IP allocations, mounts, cgroups,
// state and log directories.
func TestManifestLifecycle(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("app.yaml", sleeperPod("app", ""))
	first := d.waitPod("app", 60*time.Second, "runs", allRunning)

	d.writeManifest("app.yaml", sleeperPod("app", "    env: [{name: VERSION, value: \"2\"}]\n"))
	second := d.waitPod("app", 60*time.Second, "is replaced", func(p *v1.Pod) error {
		if p.UID == first.UID {
			return fmt.Errorf("still the old pod")
		}
		return allRunning(p)
	})
	_, pids := d.pids(second)
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids["main"]))
	if err != nil || !strings.Contains(string(environ), "VERSION=2") {
		t.Errorf("the replaced container does not run the new spec: %q %v", environ, err)
	}
	d.eventually(30*time.Second, "the old pod's containers are gone", func() error {
		out, err := env2ctr(d, "containers", "ls", "-q")
		if err != nil {
			return err
		}
		if strings.Contains(out, podIDPrefix(first)) {
			return fmt.Errorf("old containers still listed:\n%s", out)
		}
		return nil
	})

	d.removeManifest("app.yaml")
	d.waitGone("app", 30*time.Second)
	d.assertClean()
}

// TestGracefulStop: removing a pod sends SIGTERM, waits the grace period,
// then SIGKILLs a container that ignores it.
func TestGracefulStop(t *testing.T) {
	d := startDaemon(t)
	marks := filepath.Join(d.Dir, "marks")
	if err := os.MkdirAll(marks, 0o755); err != nil {
		t.Fatal(err)
	}
	d.writeManifest("stop.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: stop}
spec:
  terminationGracePeriodSeconds: 3
  volumes: [{name: marks, hostPath: {path: %s, type: Directory}}]
  containers:
  - name: polite
    image: %s
    command: ["sh", "-c", "trap 'echo term > /marks/polite; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: marks, mountPath: /marks}]
  - name: stubborn
    image: %s
    command: ["sh", "-c", "trap 'echo term > /marks/stubborn' TERM; while true; do sleep 0.1; done"]
    volumeMounts: [{name: marks, mountPath: /marks}]
`, marks, BusyboxImage, BusyboxImage))
	p := d.waitPod("stop", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	start := time.Now()
	d.removeManifest("stop.yaml")

	d.eventually(10*time.Second, "the polite container got SIGTERM and exited", func() error {
		if _, err := os.Stat(filepath.Join(marks, "polite")); err != nil {
			return err
		}
		if processAlive(pids["polite"]) {
			return fmt.Errorf("still running")
		}
		return nil
	})
	d.eventually(20*time.Second, "the stubborn container is killed", func() error {
		if processAlive(pids["stubborn"]) {
			return fmt.Errorf("pid %d still running", pids["stubborn"])
		}
		return nil
	})
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("the stubborn container was killed after %v, before the 3s grace period", took)
	}
	if b, err := os.ReadFile(filepath.Join(marks, "stubborn")); err != nil || strings.TrimSpace(string(b)) != "term" {
		t.Errorf("the stubborn container never saw SIGTERM before SIGKILL: %q %v", b, err)
	}
	d.waitGone("stop", 30*time.Second)
	d.assertClean()
}

// TestRestartAdoptsPods: minilet killed with SIGKILL (and also stopped with
// SIGTERM) leaves pods running; a new daemon adopts them without restarting
// anything.
func TestRestartAdoptsPods(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("keep.yaml", sleeperPod("keep", ""))
	p := d.waitPod("keep", 60*time.Second, "runs", allRunning)
	pause, pids := d.pids(p)

	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		d.signal(sig)
		if !processAlive(pause) || !processAlive(pids["main"]) {
			t.Fatalf("after %v of minilet, the pod's processes died", sig)
		}
		d.start()
		again := d.waitPod("keep", 30*time.Second, "is adopted", allRunning)
		if again.UID != p.UID {
			t.Fatalf("after %v: pod UID changed from %s to %s: the pod was replaced, not adopted", sig, p.UID, again.UID)
		}
		pause2, pids2 := d.pids(again)
		if pause2 != pause || pids2["main"] != pids["main"] {
			t.Fatalf("after %v: PIDs changed (pause %d→%d, main %d→%d): containers were restarted", sig, pause, pause2, pids["main"], pids2["main"])
		}
		if rc := again.Status.ContainerStatuses[0].RestartCount; rc != 0 {
			t.Fatalf("after %v: restartCount = %d, want 0", sig, rc)
		}
	}
}

func processAlive(pid uint32) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie is dead too: the shim has not reaped it yet.
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func podIDPrefix(p *v1.Pod) string {
	return strings.Split(strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://"), "-")[0]
}

func env2ctr(d *daemon, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return env.containerd.ctr(ctx, d.Namespace, args...)
}

// assertClean checks that the daemon's pods left nothing behind.
func (d *daemon) assertClean() {
	d.t.Helper()
	d.eventually(20*time.Second, "no containers are left", func() error {
		out, err := env2ctr(d, "containers", "ls", "-q")
		if err != nil || out != "" {
			return fmt.Errorf("containers: %q %v", out, err)
		}
		return nil
	})
	if out, _ := env2ctr(d, "snapshots", "ls"); strings.Contains(out, "Active") {
		d.t.Errorf("active snapshots are left:\n%s", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(d.RunDir, "netns")); len(ents) > 0 {
		d.t.Errorf("network namespaces are left: %v", ents)
	}
	var ips []string
	_ = filepath.WalkDir(filepath.Join(d.RootDir, "cni"), func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.Count(filepath.Base(path), ".") == 3 {
			ips = append(ips, path)
		}
		return nil
	})
	if len(ips) > 0 {
		d.t.Errorf("IP allocations are left: %v", ips)
	}
	var mounts []string
	for _, m := range mountsUnder(d.Dir) {
		// The netns directory itself is a shared mount point, made once,
		// as `ip netns` makes /run/netns.
		if m != filepath.Join(d.RunDir, "netns") {
			mounts = append(mounts, m)
		}
	}
	if len(mounts) > 0 {
		d.t.Errorf("mounts are left: %v", mounts)
	}
	if rules := iptablesRulesOf(d.Network); len(rules) > 0 {
		d.t.Errorf("iptables rules left:\n%s", strings.Join(rules, "\n"))
	}
	if ents, _ := os.ReadDir(filepath.Join(d.RootDir, "pods")); len(ents) > 0 {
		d.t.Errorf("pod state directories are left: %v", ents)
	}
	if ents, _ := os.ReadDir(d.LogDir); len(ents) > 0 {
		d.t.Errorf("pod log directories are left: %v", ents)
	}
	cg, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace + "/pod*")
	cg2, _ := filepath.Glob("/sys/fs/cgroup/minilet/" + d.Namespace + "/pod*")
	if left := append(cg, cg2...); len(left) > 0 {
		d.t.Errorf("pod cgroups are left: %v", left)
	}
}
