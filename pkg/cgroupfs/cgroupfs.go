// Package cgroupfs reads what a cgroup uses from the cgroup filesystems
// (v1 hierarchies, or the unified v2 one where a controller is there):
// memory working set, use, RSS and page faults, CPU time and processes,
// as cAdvisor and the kubelet count them. Cgroup paths are relative to each hierarchy's root ("/" is
// the root: the whole machine).
package cgroupfs

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FS is where the memory, cpuacct (or v2 cpu) and pids controllers are
// mounted.
type FS struct {
	memoryRoot string
	memoryV2   bool
	cpuRoot    string
	cpuV2      bool
	pidsRoot   string
}

// Open finds the controllers' hierarchies in /proc/self/mountinfo; v1
// hierarchies are preferred where both have a controller.
func Open() (*FS, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs := &FS{}
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
					switch {
					case o == "memory" && fs.memoryRoot == "":
						fs.memoryRoot = point
					case o == "pids" && fs.pidsRoot == "":
						fs.pidsRoot = point
					case o == "cpuacct" && fs.cpuRoot == "":
						fs.cpuRoot = point
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
		has := func(c string) bool { return strings.Contains(" "+strings.TrimSpace(string(ctrl))+" ", " "+c+" ") }
		if fs.memoryRoot == "" && has("memory") {
			fs.memoryRoot, fs.memoryV2 = v2, true
		}
		if fs.pidsRoot == "" && has("pids") {
			fs.pidsRoot = v2
		}
		if fs.cpuRoot == "" {
			// cpu.stat's usage_usec is there even without the cpu
			// controller.
			fs.cpuRoot, fs.cpuV2 = v2, true
		}
	}
	if fs.memoryRoot == "" {
		return nil, errors.New("no cgroup hierarchy has the memory controller")
	}
	return fs, nil
}

// WorkingSet is a cgroup's memory use less its inactive file cache, as
// cAdvisor counts it.
func (fs *FS) WorkingSet(cgroup string) (int64, error) {
	dir := filepath.Join(fs.memoryRoot, filepath.Clean("/"+cgroup))
	usageFile, inactiveKey := "memory.usage_in_bytes", "total_inactive_file"
	if fs.memoryV2 {
		usageFile, inactiveKey = "memory.current", "inactive_file"
	}
	usage, err := readInt(filepath.Join(dir, usageFile))
	if err != nil && fs.memoryV2 && filepath.Clean("/"+cgroup) == "/" {
		// The v2 root has no memory.current: the machine's use.
		return machineWorkingSet()
	}
	if err != nil {
		return 0, err
	}
	if n, ok := statValue(filepath.Join(dir, "memory.stat"), inactiveKey); ok && n < usage {
		return usage - n, nil
	}
	return usage, nil
}

// CPUUsage is the CPU time the cgroup's tasks used, in nanoseconds.
func (fs *FS) CPUUsage(cgroup string) (int64, error) {
	if fs.cpuRoot == "" {
		return 0, errors.New("no cgroup hierarchy accounts CPU time")
	}
	dir := filepath.Join(fs.cpuRoot, filepath.Clean("/"+cgroup))
	if !fs.cpuV2 {
		return readInt(filepath.Join(dir, "cpuacct.usage"))
	}
	if n, ok := statValue(filepath.Join(dir, "cpu.stat"), "usage_usec"); ok {
		return n * 1000, nil
	}
	return 0, errors.New("no usage_usec in " + filepath.Join(dir, "cpu.stat"))
}

// Processes is how many tasks the cgroup has (pids.current).
func (fs *FS) Processes(cgroup string) (int64, error) {
	if fs.pidsRoot == "" {
		return 0, errors.New("no cgroup hierarchy has the pids controller")
	}
	return readInt(filepath.Join(fs.pidsRoot, filepath.Clean("/"+cgroup), "pids.current"))
}

// machineWorkingSet is the machine's memory in use less its inactive file
// cache (MemTotal - MemFree - Inactive(file), from /proc/meminfo), what
// the v1 root cgroup's working set counts.
func machineWorkingSet() (int64, error) {
	kb, err := meminfoKB()
	if err != nil {
		return 0, err
	}
	ws := kb["MemTotal"] - kb["MemFree"] - kb["Inactive(file)"]
	return ws * 1024, nil
}

// statValue is key's value in a "key value" file (memory.stat, cpu.stat).
func statValue(path, key string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
