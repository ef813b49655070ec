package eviction

import (
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/minilet/minilet/pkg/cgroupfs"
)

// Meter measures what a pod uses: memory and processes from its cgroup,
// disk from its volume and log directories (du-like: allocated blocks,
// files on other filesystems, such as tmpfs volumes, left out).
type Meter struct {
	fs *cgroupfs.FS
}

// NewMeter finds the cgroup hierarchies of the memory and pids
// controllers.
func NewMeter() (*Meter, error) {
	fs, err := cgroupfs.Open()
	if err != nil {
		return nil, err
	}
	return &Meter{fs: fs}, nil
}

// Measure is what ref's pod uses now.
func (m *Meter) Measure(ref PodRef) Usage {
	u := Usage{Containers: map[string]ContainerUsage{}}
	mem, err := m.fs.WorkingSet(ref.CgroupParent)
	u.Found = err == nil
	u.Memory = mem
	if n, err := m.fs.Processes(ref.CgroupParent); err == nil {
		u.Processes = n
	}
	u.Volumes, u.VolumeInodes = diskUsage(ref.VolumesDir)
	for name, id := range ref.Containers {
		var cu ContainerUsage
		cu.Memory, _ = m.fs.WorkingSet(ref.CgroupParent + "/" + id)
		var inodes int64
		cu.Logs, inodes = diskUsage(filepath.Join(ref.LogDir, name))
		u.Logs += cu.Logs
		u.LogInodes += inodes
		u.Containers[name] = cu
	}
	return u
}

// diskUsage is the bytes allocated to, and the count of, the files under
// dir that are on dir's filesystem.
func diskUsage(dir string) (bytes, inodes int64) {
	var root syscall.Stat_t
	if syscall.Lstat(dir, &root) != nil {
		return 0, 0
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st syscall.Stat_t
		if syscall.Lstat(path, &st) != nil {
			return nil
		}
		if st.Dev != root.Dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		bytes += st.Blocks * 512
		inodes++
		return nil
	})
	return bytes, inodes
}
