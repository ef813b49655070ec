package statssummary

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// procFS reads the kernel's figures from procfs mounted at root.
type procFS struct{ root string }

func (p procFS) read(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(p.root, rel))
	return string(b), err
}

// bootTime is when the machine booted.
func (p procFS) bootTime() (time.Time, error) {
	text, err := p.read("stat")
	if err != nil {
		return time.Time{}, err
	}
	return parseBootTime(text)
}

// memTotal is the machine's memory in bytes.
func (p procFS) memTotal() (uint64, error) {
	text, err := p.read("meminfo")
	if err != nil {
		return 0, err
	}
	return parseMemTotal(text)
}

// rlimit are the machine's limit on tasks and their count (each nil
// when unread), as the kubelet reads them: the smaller of pid_max and
// threads-max, and the total of /proc/loadavg's running/total field
// (threads included, like the limit).
func (p procFS) rlimit(at time.Time) *statsapi.RlimitStats {
	r := &statsapi.RlimitStats{Time: metav1.NewTime(at)}
	limit := int64(-1)
	for _, rel := range []string{"sys/kernel/pid_max", "sys/kernel/threads-max"} {
		text, err := p.read(rel)
		if err != nil {
			limit = -1
			break
		}
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			limit = -1
			break
		}
		if limit < 0 || n < limit {
			limit = n
		}
	}
	if limit >= 0 {
		r.MaxPID = &limit
	}
	if text, err := p.read("loadavg"); err == nil {
		if n, err := parseTaskCount(text); err == nil {
			r.NumOfRunningProcesses = &n
		}
	}
	return r
}

// netDev are the interfaces' counters of the network namespace of pid
// (0: the one minilet runs in, the host's).
func (p procFS) netDev(pid uint32) ([]statsapi.InterfaceStats, error) {
	rel := "net/dev"
	if pid != 0 {
		rel = filepath.Join(strconv.FormatUint(uint64(pid), 10), "net/dev")
	}
	text, err := p.read(rel)
	if err != nil {
		return nil, err
	}
	return parseNetDev(text)
}

// parseBootTime is the boot time in /proc/stat ("btime 1700000000").
func parseBootTime(stat string) (time.Time, error) {
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "btime" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("btime %q: %w", f[1], err)
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("no btime in /proc/stat")
}

// parseMemTotal is MemTotal in /proc/meminfo ("MemTotal: 16384 kB"), in
// bytes.
func parseMemTotal(meminfo string) (uint64, error) {
	for _, line := range strings.Split(meminfo, "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok || key != "MemTotal" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("MemTotal %q: %w", f[0], err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n, nil
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

// parseTaskCount is the number of tasks in /proc/loadavg: the total of
// its running/total field ("0.10 0.20 0.30 2/345 6789" → 345).
func parseTaskCount(loadavg string) (int64, error) {
	f := strings.Fields(loadavg)
	if len(f) < 4 {
		return 0, fmt.Errorf("/proc/loadavg %q: too few fields", loadavg)
	}
	_, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0, fmt.Errorf("/proc/loadavg %q: no running/total field", loadavg)
	}
	return strconv.ParseInt(total, 10, 64)
}
