package eviction

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Meter measures what a pod uses: memory and processes from its cgroup,
// disk from its volume and log directories (du-like: allocated blocks,
// files on other filesystems, such as tmpfs volumes, left out).
type Meter struct {
	memoryRoot string // mount point of the memory controller
	memoryV2   bool
	pidsRoot   string // mount point of the pids controller
}

// NewMeter finds the cgroup hierarchies of the memory and pids
// controllers.
func NewMeter() (*Meter, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &Meter{}
	var v2 string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts ... - fstype source superopts
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x != "-" || i+3 >= len(fields) || len(fields) < 5 {
				continue
			}
			point := fields[4]
			switch fields[i+1] {
			case "cgroup":
				for _, o := range strings.Split(fields[i+3], ",") {
					if o == "memory" && m.memoryRoot == "" {
						m.memoryRoot = point
					}
					if o == "pids" && m.pidsRoot == "" {
						m.pidsRoot = point
					}
				}
			case "cgroup2":
				if v2 == "" {
					v2 = point
				}
			}
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if v2 != "" {
		ctrl, _ := os.ReadFile(filepath.Join(v2, "cgroup.controllers"))
		has := func(c string) bool { return strings.Contains(" "+string(ctrl)+" ", " "+c+" ") }
		if m.memoryRoot == "" && has("memory") {
			m.memoryRoot, m.memoryV2 = v2, true
		}
		if m.pidsRoot == "" && has("pids") {
			m.pidsRoot = v2
		}
	}
	if m.memoryRoot == "" {
		return nil, errors.New("no cgroup hierarchy has the memory controller")
	}
	return m, nil
}

// Measure is what ref's pod uses now.
func (m *Meter) Measure(ref PodRef) Usage {
	u := Usage{Containers: map[string]ContainerUsage{}}
	mem, err := m.workingSet(ref.CgroupParent)
	u.Found = err == nil
	u.Memory = mem
	if m.pidsRoot != "" {
		if n, err := readInt(filepath.Join(m.pidsRoot, ref.CgroupParent, "pids.current")); err == nil {
			u.Processes = n
		}
	}
	u.Volumes, u.VolumeInodes = diskUsage(ref.VolumesDir)
	for name, id := range ref.Containers {
		var cu ContainerUsage
		cu.Memory, _ = m.workingSet(ref.CgroupParent + "/" + id)
		var inodes int64
		cu.Logs, inodes = diskUsage(filepath.Join(ref.LogDir, name))
		u.Logs += cu.Logs
		u.LogInodes += inodes
		u.Containers[name] = cu
	}
	return u
}

// workingSet is a cgroup's memory use less its inactive file cache, as
// cAdvisor counts it.
func (m *Meter) workingSet(cgroup string) (int64, error) {
	dir := filepath.Join(m.memoryRoot, filepath.Clean("/"+cgroup))
	usageFile, inactiveKey := "memory.usage_in_bytes", "total_inactive_file"
	if m.memoryV2 {
		usageFile, inactiveKey = "memory.current", "inactive_file"
	}
	usage, err := readInt(filepath.Join(dir, usageFile))
	if err != nil {
		return 0, err
	}
	stat, err := os.ReadFile(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(stat), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == inactiveKey {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n < usage {
				return usage - n, nil
			}
		}
	}
	return usage, nil
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

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
