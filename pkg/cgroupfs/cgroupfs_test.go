package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestV1(t *testing.T) {
	mem, cpu, pids := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, filepath.Join(mem, "pod/c1/memory.usage_in_bytes"), "1000\n")
	write(t, filepath.Join(mem, "pod/c1/memory.stat"), "cache 500\ntotal_inactive_file 300\n")
	write(t, filepath.Join(cpu, "pod/c1/cpuacct.usage"), "123456789\n")
	write(t, filepath.Join(pids, "pod/pids.current"), "7\n")
	fs := &FS{memoryRoot: mem, cpuRoot: cpu, pidsRoot: pids}
	if ws, err := fs.WorkingSet("pod/c1"); err != nil || ws != 700 {
		t.Errorf("working set %d %v, want 700 (usage less inactive file)", ws, err)
	}
	if ns, err := fs.CPUUsage("/pod/c1"); err != nil || ns != 123456789 {
		t.Errorf("cpu %d %v", ns, err)
	}
	if n, err := fs.Processes("pod"); err != nil || n != 7 {
		t.Errorf("processes %d %v", n, err)
	}
	if _, err := fs.WorkingSet("gone"); err == nil {
		t.Error("a missing cgroup has a working set")
	}
}

func TestV2(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "pod/c1/memory.current"), "4096\n")
	write(t, filepath.Join(root, "pod/c1/memory.stat"), "anon 1000\ninactive_file 1096\n")
	write(t, filepath.Join(root, "pod/c1/cpu.stat"), "usage_usec 2500\nuser_usec 2000\n")
	fs := &FS{memoryRoot: root, memoryV2: true, cpuRoot: root, cpuV2: true}
	if ws, err := fs.WorkingSet("pod/c1"); err != nil || ws != 3000 {
		t.Errorf("working set %d %v, want 3000", ws, err)
	}
	if ns, err := fs.CPUUsage("pod/c1"); err != nil || ns != 2500000 {
		t.Errorf("cpu %d %v, want 2500000 ns", ns, err)
	}
	// The v2 root has no memory.current: the machine's, from meminfo.
	if ws, err := fs.WorkingSet("/"); err != nil || ws <= 0 {
		t.Errorf("machine working set %d %v", ws, err)
	}
}

// TestOpenHere: this machine's hierarchies give the machine's figures.
func TestOpenHere(t *testing.T) {
	fs, err := Open()
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	if ws, err := fs.WorkingSet("/"); err != nil || ws <= 0 {
		t.Errorf("machine working set %d %v", ws, err)
	}
	if ns, err := fs.CPUUsage("/"); err != nil || ns <= 0 {
		t.Errorf("machine cpu %d %v", ns, err)
	}
}
