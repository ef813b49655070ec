package podhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A cgroup tree with a process left in a child (a "runc init" whose task
// containerd lost) is removed whole: the process is killed, the
// directories go, in every hierarchy.
func TestRemoveCgroupKillsWhatIsLeft(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	pids := "/sys/fs/cgroup/pids"
	if _, err := os.Stat(filepath.Join(pids, "cgroup.procs")); err != nil {
		t.Skip("no cgroup v1 pids hierarchy")
	}
	parent := fmt.Sprintf("minilet-cgtest-%d", os.Getpid())
	child := filepath.Join(pids, parent, "stuck")
	if err := os.MkdirAll(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveCgroup(parent) })
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(child, "cgroup.procs"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	if err := RemoveCgroup(parent); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("process ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the process in the cgroup still runs")
	}
	if _, err := os.Stat(filepath.Join(pids, parent)); !os.IsNotExist(err) {
		t.Fatalf("cgroup directory left: %v", err)
	}
	if err := RemoveCgroup(parent); err != nil {
		t.Fatalf("removing it again: %v", err)
	}
}
