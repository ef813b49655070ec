package statssummary

import (
	"path/filepath"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/minilet/minilet/pkg/eviction"
)

// pod are a running pod's stats: CPU and memory of its cgroup, its
// running containers', and unless onlyCPUAndMemory its network, its task
// count and its containers' logs. false: its cgroup cannot be read.
func (h *Handler) pod(ref eviction.PodRef, onlyCPUAndMemory bool, seen map[string]bool) (statsapi.PodStats, bool) {
	pod := ref.Pod
	s, rate := h.readCgroup(ref.CgroupParent, seen)
	if !s.found() {
		return statsapi.PodStats{}, false
	}
	ps := statsapi.PodStats{
		PodRef:     statsapi.PodReference{Name: h.cfg.Name(pod), Namespace: pod.Namespace, UID: string(pod.UID)},
		CPU:        cpuStats(s, rate),
		Memory:     memoryStats(s, 0),
		Containers: []statsapi.ContainerStats{},
	}
	if pod.Status.StartTime != nil {
		ps.StartTime = *pod.Status.StartTime
	}
	var logFs *FsInfo
	if !onlyCPUAndMemory && ref.LogDir != "" {
		if fs, err := h.cfg.Statfs(ref.LogDir); err == nil {
			logFs = &fs
		}
	}
	started := ref.StartTimes()
	for _, name := range sortedNames(ref.Containers) {
		cs, ok := h.container(ref, name, started[name], onlyCPUAndMemory, logFs, seen)
		if ok {
			ps.Containers = append(ps.Containers, cs)
		}
	}
	if onlyCPUAndMemory {
		return ps, true
	}
	if pid := h.cfg.PodPID(pod); pid != 0 {
		if ifaces, err := h.proc.netDev(pid); err == nil {
			ps.Network = networkStats(h.cfg.Now(), ifaces)
		}
	}
	if n := unsigned(h.cfg.Cgroups.Processes(ref.CgroupParent)); n != nil {
		ps.ProcessStats = &statsapi.ProcessStats{ProcessCount: n}
	}
	return ps, true
}

// container are a running container's stats: CPU and memory of its
// cgroup, and unless onlyCPUAndMemory its logs: the filesystem holding
// them (logFs, nil: unknown) and what its log directory uses. false:
// its cgroup cannot be read.
func (h *Handler) container(ref eviction.PodRef, name string, started time.Time, onlyCPUAndMemory bool, logFs *FsInfo, seen map[string]bool) (statsapi.ContainerStats, bool) {
	s, rate := h.readCgroup(ref.CgroupParent+"/"+ref.Containers[name], seen)
	if !s.found() {
		return statsapi.ContainerStats{}, false
	}
	cs := statsapi.ContainerStats{Name: name, StartTime: metav1.NewTime(started), CPU: cpuStats(s, rate), Memory: memoryStats(s, 0)}
	if onlyCPUAndMemory {
		return cs, true
	}
	var used, inodes *uint64
	if ref.LogDir != "" {
		if b, n, err := dirUsage(filepath.Join(ref.LogDir, name)); err == nil {
			used, inodes = &b, &n
		}
	}
	cs.Logs = fsStats(h.cfg.Now(), logFs, used, inodes)
	return cs, true
}

// sortedNames are the containers' names in order.
func sortedNames(ids map[string]string) []string {
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
