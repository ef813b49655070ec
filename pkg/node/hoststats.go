package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadHostStats measures the host: CPUs, /proc/meminfo, the filesystem
// holding stateDir, and the PID limit and task count. It returns what it
// could read together with an error naming what it could not.
// RuntimeErr is left nil: the caller asks the runtime.
func ReadHostStats(stateDir string) (HostStats, error) {
	return readHostStats(realHost(), stateDir)
}

func readHostStats(p hostPaths, stateDir string) (HostStats, error) {
	h := HostStats{NumCPU: runtime.NumCPU()}
	var errs []error
	if err := readMeminfo(p.meminfo, &h); err != nil {
		errs = append(errs, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(stateDir, &st); err != nil {
		errs = append(errs, fmt.Errorf("statfs %s: %w", stateDir, err))
	} else {
		h.FsCapacity = int64(st.Blocks) * int64(st.Bsize)
		h.FsAvailable = int64(st.Bavail) * int64(st.Bsize)
		h.FsInodes, h.FsInodesFree = int64(st.Files), int64(st.Ffree)
	}
	maxPIDs, err := readTaskLimit(p.pidMax, p.threadsMax)
	if err != nil {
		errs = append(errs, err)
	}
	h.MaxPIDs = maxPIDs
	tasks, err := readTaskCount(p.loadavg)
	if err != nil {
		errs = append(errs, err)
	}
	h.Tasks = tasks
	if len(errs) > 0 {
		return h, fmt.Errorf("read host stats: %w", errors.Join(errs...))
	}
	return h, nil
}

// readMeminfo fills MemoryTotal, MemoryAvailable and MemoryWorkingSet
// from a /proc/meminfo-shaped file ("MemTotal:  16384000 kB").
func readMeminfo(path string, h *HostStats) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read memory info: %w", err)
	}
	found := 0
	var free, inactiveFile int64 = -1, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable" && key != "MemFree" && key != "Inactive(file)") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return fmt.Errorf("%s: %s has no value", path, key)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, key, err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		switch key {
		case "MemTotal":
			h.MemoryTotal = n
			found++
		case "MemAvailable":
			h.MemoryAvailable = n
			found++
		case "MemFree":
			free = n
		default:
			inactiveFile = n
		}
	}
	if found < 2 {
		return fmt.Errorf("%s: no MemTotal or MemAvailable", path)
	}
	// The working set as cAdvisor counts the root cgroup's: memory in
	// use (page cache included) less the inactive file cache.
	if free >= 0 {
		h.MemoryWorkingSet = max(h.MemoryTotal-free-inactiveFile, 0)
	} else {
		h.MemoryWorkingSet = h.MemoryTotal - h.MemoryAvailable
	}
	return nil
}

// readTaskLimit is the system-wide limit on tasks: the smaller of
// pid_max and threads-max, as the kubelet computes it.
func readTaskLimit(pidMax, threadsMax string) (int64, error) {
	limit := int64(-1)
	for _, path := range []string{pidMax, threadsMax} {
		n, err := readInt(path)
		if err != nil {
			return 0, err
		}
		if limit < 0 || n < limit {
			limit = n
		}
	}
	return limit, nil
}

// readTaskCount is the number of tasks (threads included): the total of
// the "running/total" field of /proc/loadavg, which the kubelet prefers
// to sysinfo(2) because that one is 16 bits wide.
func readTaskCount(loadavg string) (int64, error) {
	data, err := os.ReadFile(loadavg)
	if err != nil {
		return 0, fmt.Errorf("read task count: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 4 {
		return 0, fmt.Errorf("%s: want 5 fields, got %q", loadavg, data)
	}
	_, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0, fmt.Errorf("%s: no running/total field in %q", loadavg, data)
	}
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: task count: %w", loadavg, err)
	}
	return n, nil
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}
