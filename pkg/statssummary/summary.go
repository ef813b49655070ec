package statssummary

import (
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// Summary reads the node's and the running pods' use now. With
// onlyCPUAndMemory (the kubelet's only_cpu_and_memory, what
// metrics-server asks for) it holds their CPU and memory only. A pod or
// container whose cgroup cannot be read (it just stopped) is left out.
func (h *Handler) Summary(onlyCPUAndMemory bool) statsapi.Summary {
	seen := map[string]bool{}
	s := statsapi.Summary{Node: h.node(onlyCPUAndMemory, seen), Pods: []statsapi.PodStats{}}
	for _, ref := range h.cfg.Pods() {
		if ps, ok := h.pod(ref, onlyCPUAndMemory, seen); ok {
			s.Pods = append(s.Pods, ps)
		}
	}
	h.rates.keep(seen)
	return s
}

// readCgroup reads cgroup's use now and its CPU rate since the last
// request, marking it seen.
func (h *Handler) readCgroup(cgroup string, seen map[string]bool) (cgroupSample, *uint64) {
	s := readCgroup(h.cfg.Cgroups, cgroup, h.cfg.Now())
	if s.cpu == nil {
		return s, nil
	}
	seen[cgroup] = true
	return s, h.rates.observe(cgroup, cpuSample{at: s.at, usage: *s.cpu})
}
