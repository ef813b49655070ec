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
	if n, err := fs.MemoryUsage("/"); err != nil || n <= 0 {
		t.Errorf("machine memory use %d %v", n, err)
	}
}

func TestMemoryV1(t *testing.T) {
	mem := t.TempDir()
	write(t, filepath.Join(mem, "pod/memory.usage_in_bytes"), "5000\n")
	write(t, filepath.Join(mem, "pod/memory.stat"),
		"rss 10\npgfault 1\npgmajfault 0\ntotal_rss 4000\ntotal_pgfault 900\ntotal_pgmajfault 7\n")
	write(t, filepath.Join(mem, "bare/memory.stat"), "cache 1\n")
	fs := &FS{memoryRoot: mem}
	if n, err := fs.MemoryUsage("pod"); err != nil || n != 5000 {
		t.Errorf("usage %d %v, want 5000", n, err)
	}
	// Hierarchical figures: the pod cgroup's tasks are in its children.
	if n, err := fs.RSS("/pod"); err != nil || n != 4000 {
		t.Errorf("rss %d %v, want 4000 (total_rss)", n, err)
	}
	if f, m, err := fs.PageFaults("pod"); err != nil || f != 900 || m != 7 {
		t.Errorf("page faults %d %d %v, want 900 7", f, m, err)
	}
	if _, err := fs.RSS("bare"); err == nil {
		t.Error("rss without total_rss")
	}
	if _, _, err := fs.PageFaults("bare"); err == nil {
		t.Error("page faults without total_pgfault")
	}
	if _, err := fs.MemoryUsage("gone"); err == nil {
		t.Error("a missing cgroup has a memory use")
	}
	if _, err := fs.RSS("gone"); err == nil {
		t.Error("a missing cgroup has an rss")
	}
}

func TestMemoryV2(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "pod/c1/memory.current"), "8192\n")
	write(t, filepath.Join(root, "pod/c1/memory.stat"), "anon 3000\nfile 5000\npgfault 120\npgmajfault 3\n")
	fs := &FS{memoryRoot: root, memoryV2: true}
	if n, err := fs.MemoryUsage("pod/c1"); err != nil || n != 8192 {
		t.Errorf("usage %d %v, want 8192", n, err)
	}
	if n, err := fs.RSS("pod/c1"); err != nil || n != 3000 {
		t.Errorf("rss %d %v, want 3000 (anon)", n, err)
	}
	if f, m, err := fs.PageFaults("pod/c1"); err != nil || f != 120 || m != 3 {
		t.Errorf("page faults %d %d %v, want 120 3", f, m, err)
	}
	if _, _, err := fs.PageFaults("gone"); err == nil {
		t.Error("a missing cgroup has page faults")
	}
	// The v2 root has no memory.current: the machine's, from meminfo,
	// and at least its working set.
	n, err := fs.MemoryUsage("/")
	ws, err2 := fs.WorkingSet("/")
	if err != nil || err2 != nil || n <= 0 || ws > n {
		t.Errorf("machine usage %d %v, working set %d %v", n, err, ws, err2)
	}
}
