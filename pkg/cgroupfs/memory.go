package cgroupfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MemoryUsage is a cgroup's memory in use, page cache included
// (memory.usage_in_bytes; v2 memory.current). The v2 root has no
// memory.current: the machine's use (MemTotal - MemFree), what the v1
// root's usage counts.
func (fs *FS) MemoryUsage(cgroup string) (int64, error) {
	usageFile := "memory.usage_in_bytes"
	if fs.memoryV2 {
		usageFile = "memory.current"
	}
	n, err := readInt(filepath.Join(fs.memoryRoot, filepath.Clean("/"+cgroup), usageFile))
	if err != nil && fs.memoryV2 && filepath.Clean("/"+cgroup) == "/" {
		kb, err := meminfoKB()
		if err != nil {
			return 0, err
		}
		return (kb["MemTotal"] - kb["MemFree"]) * 1024, nil
	}
	return n, err
}

// RSS is a cgroup's anonymous and swap-cache memory, transparent huge
// pages included, its descendants' too (memory.stat total_rss; v2 anon),
// as cAdvisor counts it.
func (fs *FS) RSS(cgroup string) (int64, error) {
	key := "total_rss"
	if fs.memoryV2 {
		key = "anon"
	}
	stat, err := fs.memoryStat(cgroup)
	if err != nil {
		return 0, err
	}
	n, ok := stat[key]
	if !ok {
		return 0, fmt.Errorf("no %s in the memory.stat of cgroup %s", key, cgroup)
	}
	return n, nil
}

// PageFaults are the page faults of a cgroup's tasks and its
// descendants' since it was made: all of them and the major ones
// (memory.stat total_pgfault and total_pgmajfault; v2 pgfault and
// pgmajfault).
func (fs *FS) PageFaults(cgroup string) (faults, major int64, err error) {
	faultKey, majorKey := "total_pgfault", "total_pgmajfault"
	if fs.memoryV2 {
		faultKey, majorKey = "pgfault", "pgmajfault"
	}
	stat, err := fs.memoryStat(cgroup)
	if err != nil {
		return 0, 0, err
	}
	faults, ok1 := stat[faultKey]
	major, ok2 := stat[majorKey]
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("no %s or %s in the memory.stat of cgroup %s", faultKey, majorKey, cgroup)
	}
	return faults, major, nil
}

// memoryStat is the cgroup's memory.stat, key by key.
func (fs *FS) memoryStat(cgroup string) (map[string]int64, error) {
	b, err := os.ReadFile(filepath.Join(fs.memoryRoot, filepath.Clean("/"+cgroup), "memory.stat"))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// meminfoKB is /proc/meminfo, in kB by key.
func meminfoKB() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, err
	}
	kb := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err == nil {
			kb[k] = n
		}
	}
	return kb, nil
}
