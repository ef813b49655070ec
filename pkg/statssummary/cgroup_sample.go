package statssummary

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// cgroupSample is what a cgroup used at a time; nil: could not be read.
type cgroupSample struct {
	at                     time.Time
	cpu                    *uint64 // nanoseconds
	workingSet, usage, rss *uint64 // bytes
	faults, majorFaults    *uint64
}

// readCgroup reads what cgroup uses, at time at.
func readCgroup(cg Cgroups, cgroup string, at time.Time) cgroupSample {
	s := cgroupSample{at: at}
	s.cpu = unsigned(cg.CPUUsage(cgroup))
	s.workingSet = unsigned(cg.WorkingSet(cgroup))
	s.usage = unsigned(cg.MemoryUsage(cgroup))
	s.rss = unsigned(cg.RSS(cgroup))
	if f, m, err := cg.PageFaults(cgroup); err == nil {
		s.faults, s.majorFaults = unsigned(f, nil), unsigned(m, nil)
	}
	return s
}

// found reports whether the cgroup's CPU time and working set were read:
// a pod or container without them has just stopped and is left out.
func (s cgroupSample) found() bool { return s.cpu != nil && s.workingSet != nil }

// cpuStats are the sample's CPU stats with the rate since the previous
// sample (nil: unknown); nil without a CPU time.
func cpuStats(s cgroupSample, nanoCores *uint64) *statsapi.CPUStats {
	if s.cpu == nil {
		return nil
	}
	return &statsapi.CPUStats{Time: metav1.NewTime(s.at), UsageCoreNanoSeconds: s.cpu, UsageNanoCores: nanoCores}
}

// memoryStats are the sample's memory stats, with the bytes available
// under limit (0: no limit known, none told); nil without a working set.
func memoryStats(s cgroupSample, limit uint64) *statsapi.MemoryStats {
	if s.workingSet == nil {
		return nil
	}
	m := &statsapi.MemoryStats{
		Time:            metav1.NewTime(s.at),
		WorkingSetBytes: s.workingSet,
		UsageBytes:      s.usage,
		RSSBytes:        s.rss,
		PageFaults:      s.faults,
		MajorPageFaults: s.majorFaults,
	}
	if limit > 0 {
		avail := uint64(0)
		if *s.workingSet < limit {
			avail = limit - *s.workingSet
		}
		m.AvailableBytes = &avail
	}
	return m
}

// unsigned is a read count, nil when it failed or is negative.
func unsigned(n int64, err error) *uint64 {
	if err != nil || n < 0 {
		return nil
	}
	v := uint64(n)
	return &v
}
