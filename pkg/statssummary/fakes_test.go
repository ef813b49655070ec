package statssummary

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/minilet/minilet/pkg/cgroupfs"
)

// cgroupfs.FS is what the daemon passes.
var _ Cgroups = (*cgroupfs.FS)(nil)

// cgroupUse is what a fake cgroup uses.
type cgroupUse struct{ cpu, workingSet, usage, rss, faults, major, procs int64 }

// fakeCgroups are cgroups by path; a missing one cannot be read.
type fakeCgroups map[string]cgroupUse

func (f fakeCgroups) get(cg string) (cgroupUse, error) {
	u, ok := f[cg]
	if !ok {
		return u, errors.New("no cgroup " + cg)
	}
	return u, nil
}

func (f fakeCgroups) CPUUsage(cg string) (int64, error) {
	u, err := f.get(cg)
	return u.cpu, err
}

func (f fakeCgroups) WorkingSet(cg string) (int64, error) {
	u, err := f.get(cg)
	return u.workingSet, err
}

func (f fakeCgroups) MemoryUsage(cg string) (int64, error) {
	u, err := f.get(cg)
	return u.usage, err
}

func (f fakeCgroups) RSS(cg string) (int64, error) {
	u, err := f.get(cg)
	return u.rss, err
}

func (f fakeCgroups) PageFaults(cg string) (int64, int64, error) {
	u, err := f.get(cg)
	return u.faults, u.major, err
}

func (f fakeCgroups) Processes(cg string) (int64, error) {
	u, err := f.get(cg)
	return u.procs, err
}

// fakeStatfs are filesystems by the paths they hold.
type fakeStatfs map[string]FsInfo

func (f fakeStatfs) statfs(path string) (FsInfo, error) {
	fs, ok := f[path]
	if !ok {
		return FsInfo{}, errors.New("statfs " + path + ": no such file")
	}
	return fs, nil
}

// writeFiles writes files (relative path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func u64(n uint64) *uint64 { return &n }
func i64(n int64) *int64   { return &n }
