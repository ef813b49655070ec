package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// statusField returns a "Name:" line's value from /proc/<pid>/status.
func statusField(pid int, name string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("/proc/%d/status has no %s", pid, name)
}

// rssMiB is VmRSS of pid in MiB.
func rssMiB(pid int) (float64, error) {
	v, err := statusField(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return 0, fmt.Errorf("VmRSS of %d: %q", pid, v)
	}
	return kb / 1024, nil
}

// rssSplit is the anonymous and the file-backed part of pid's RSS, MiB.
type rssSplit struct{ anon, file float64 }

func readRSSSplit(pid int) (rssSplit, error) {
	var r rssSplit
	for _, f := range []struct {
		name string
		v    *float64
	}{{"RssAnon", &r.anon}, {"RssFile", &r.file}} {
		v, err := statusField(pid, f.name)
		if err != nil {
			return r, err
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
		if err != nil {
			return r, fmt.Errorf("%s of %d: %q", f.name, pid, v)
		}
		*f.v = kb / 1024
	}
	return r, nil
}

// splitFigure notes the anonymous and file-backed medians of samples on f.
func splitFigure(f *Figure, samples []rssSplit) {
	var anon, file []float64
	for _, s := range samples {
		anon, file = append(anon, s.anon), append(file, s.file)
	}
	a, fl := summarize(anon), summarize(file)
	if a == nil || fl == nil {
		return
	}
	f.Suffix = fmt.Sprintf("anon %s, file %s", fmtNum(a.Median), fmtNum(fl.Median))
	f.Extra = map[string]any{"anon": a, "file": fl}
	f.Note = "anon: the agent's own memory (heap, stacks); file: pages of its executable mapped in, shared with other minilet processes and reclaimable"
}

// pssMiB is the proportional set size of pid in MiB: shared pages (the
// same binary in every shim) count once across the processes sharing them.
func pssMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("Pss of %d: %q", pid, v)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/smaps_rollup has no Pss", pid)
}

// ppid is the parent of pid.
func ppid(pid int) (int, error) {
	v, err := statusField(pid, "PPid")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// cpuTicks is utime+stime of pid (all its threads), in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no comm", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return u + st, nil
}

// pids lists the processes running now.
func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// cmdlineOf is pid's command line, its arguments split ("" args: gone).
func cmdlineOf(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	for _, p := range pids() {
		if pp, err := ppid(p); err == nil && pp == pid {
			out = append(out, p)
		}
	}
	return out
}

// exeOf is the resolved executable of pid ("" if unknown).
func exeOf(pid int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	return filepath.Clean(strings.TrimSuffix(p, " (deleted)"))
}

// machineCPU is the CPU time all processors spent busy since boot (user,
// nice, system, irq, softirq, steal of /proc/stat), in clock ticks.
func machineCPU() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var sum int64
	for i, v := range f {
		// cpu user nice system idle iowait irq softirq steal
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
	}
	return sum
}
