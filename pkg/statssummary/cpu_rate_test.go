package statssummary

import (
	"testing"
	"time"
)

func TestNanoCores(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name      string
		prev, cur cpuSample
		want      uint64
		ok        bool
	}{
		{"half a core", cpuSample{t0, 1e9}, cpuSample{t0.Add(time.Second), 1.5e9}, 500000000, true},
		{"two cores over 10s, large counters", cpuSample{t0, 9e15}, cpuSample{t0.Add(10 * time.Second), 9e15 + 20e9}, 2000000000, true},
		{"idle", cpuSample{t0, 7}, cpuSample{t0.Add(time.Second), 7}, 0, true},
		{"no time passed", cpuSample{t0, 1}, cpuSample{t0, 2}, 0, false},
		{"counter went back", cpuSample{t0, 5e9}, cpuSample{t0.Add(time.Second), 1e9}, 0, false},
	} {
		got, ok := nanoCores(tc.prev, tc.cur)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCPURates(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	r := newCPURates()
	if got := r.observe("a", cpuSample{t0, 1e9}); got != nil {
		t.Errorf("first sample has a rate %d", *got)
	}
	r.observe("b", cpuSample{t0, 1e9})
	if got := r.observe("a", cpuSample{t0.Add(2 * time.Second), 2e9}); got == nil || *got != 500000000 {
		t.Errorf("second sample's rate %v, want 500000000", got)
	}
	// An older sample (overlapping requests) neither rates nor replaces.
	if got := r.observe("a", cpuSample{t0.Add(time.Second), 1.2e9}); got != nil {
		t.Errorf("older sample has a rate %d", *got)
	}
	if got := r.observe("a", cpuSample{t0.Add(4 * time.Second), 4e9}); got == nil || *got != 1000000000 {
		t.Errorf("rate after an older sample %v, want 1000000000", got)
	}
	// b was not seen: forgotten, its next sample is a first one.
	r.keep(map[string]bool{"a": true})
	if got := r.observe("b", cpuSample{t0.Add(5 * time.Second), 3e9}); got != nil {
		t.Errorf("pruned cgroup has a rate %d", *got)
	}
	if _, ok := r.last["a"]; !ok {
		t.Error("a seen cgroup was pruned")
	}
}
