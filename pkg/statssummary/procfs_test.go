package statssummary

import (
	"testing"
	"time"
)

func TestParseBootTime(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"cpu  1 2 3\nintr 5\nctxt 9\nbtime 1700000000\nprocesses 42\n", 1700000000, true},
		{"cpu 1 2 3\n", 0, false},
		{"btime soon\n", 0, false},
	} {
		got, err := parseBootTime(tc.text)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(time.Unix(tc.want, 0))) {
			t.Errorf("%q: %v %v, want %d", tc.text, got, err, tc.want)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"MemTotal:       16384 kB\nMemFree:  100 kB\n", 16384 * 1024, true},
		{"MemFree: 1 kB\nMemTotal: 2048\n", 2048, true},
		{"MemFree: 1 kB\n", 0, false},
		{"MemTotal: lots kB\n", 0, false},
	} {
		got, err := parseMemTotal(tc.text)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.text, got, err, tc.want)
		}
	}
}

func TestParseTaskCount(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"0.10 0.20 0.30 2/345 6789\n", 345, true},
		{"0.10 0.20 0.30\n", 0, false},
		{"0.10 0.20 0.30 345 6789\n", 0, false},
	} {
		got, err := parseTaskCount(tc.text)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.text, got, err, tc.want)
		}
	}
}

func TestRlimit(t *testing.T) {
	at := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name          string
		files         map[string]string
		maxPID, tasks *int64
	}{
		{"threads-max is lower", map[string]string{
			"sys/kernel/pid_max": "4194304\n", "sys/kernel/threads-max": "126000\n", "loadavg": "0 0 0 1/512 9\n",
		}, i64(126000), i64(512)},
		{"pid_max is lower", map[string]string{
			"sys/kernel/pid_max": "32768\n", "sys/kernel/threads-max": "126000\n", "loadavg": "0 0 0 1/77 9\n",
		}, i64(32768), i64(77)},
		{"unreadable", map[string]string{"sys/kernel/pid_max": "32768\n"}, nil, nil},
	} {
		dir := t.TempDir()
		writeFiles(t, dir, tc.files)
		r := procFS{root: dir}.rlimit(at)
		if !r.Time.Time.Equal(at) || !eqInt(r.MaxPID, tc.maxPID) || !eqInt(r.NumOfRunningProcesses, tc.tasks) {
			t.Errorf("%s: %v maxpid %v curproc %v", tc.name, r.Time, deref(r.MaxPID), deref(r.NumOfRunningProcesses))
		}
	}
}

func eqInt(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
