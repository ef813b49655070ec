package statssummary

import (
	"sync"
	"time"
)

// cpuSample is a cgroup's cumulative CPU time, in nanoseconds, at a time.
type cpuSample struct {
	at    time.Time
	usage uint64
}

// nanoCores is the CPU rate between two samples of a cgroup, in
// core-nanoseconds per second, as the kubelet computes usageNanoCores;
// false when it cannot be told: no time passed, or the counter went back.
func nanoCores(prev, cur cpuSample) (uint64, bool) {
	dt := cur.at.Sub(prev.at)
	if dt <= 0 || cur.usage < prev.usage {
		return 0, false
	}
	return uint64(float64(cur.usage-prev.usage) / float64(dt) * float64(time.Second)), true
}

// cpuRates keeps each cgroup's last CPU sample, for the rate at the next.
type cpuRates struct {
	mu   sync.Mutex
	last map[string]cpuSample
}

func newCPURates() *cpuRates { return &cpuRates{last: map[string]cpuSample{}} }

// observe records cur as cgroup's last sample, unless it is older than
// the one kept (requests overlapped), and returns the rate since the
// previous sample: nil for the first one, as the kubelet's.
func (r *cpuRates) observe(cgroup string, cur cpuSample) *uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, ok := r.last[cgroup]
	if ok && cur.at.Before(prev.at) {
		return nil
	}
	r.last[cgroup] = cur
	if !ok {
		return nil
	}
	if n, ok := nanoCores(prev, cur); ok {
		return &n
	}
	return nil
}

// keep forgets the cgroups not in seen: they are gone.
func (r *cpuRates) keep(seen map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for cg := range r.last {
		if !seen[cg] {
			delete(r.last, cg)
		}
	}
}
