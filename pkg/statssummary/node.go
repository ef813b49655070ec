package statssummary

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// node are the node's stats: start (boot) time, CPU and memory of the
// root cgroup (available: MemTotal less the working set), and unless
// onlyCPUAndMemory the host's network, the filesystems of the root
// directory and of the runtime's images, and the task limit.
func (h *Handler) node(onlyCPUAndMemory bool, seen map[string]bool) statsapi.NodeStats {
	n := statsapi.NodeStats{NodeName: h.cfg.NodeName}
	if boot, err := h.proc.bootTime(); err == nil {
		n.StartTime = metav1.NewTime(boot)
	}
	s, rate := h.readCgroup("/", seen)
	total, _ := h.proc.memTotal() // 0: unknown
	n.CPU, n.Memory = cpuStats(s, rate), memoryStats(s, total)
	if onlyCPUAndMemory {
		return n
	}
	at := h.cfg.Now()
	if ifaces, err := h.proc.netDev(0); err == nil {
		n.Network = networkStats(at, ifaces)
	}
	if h.cfg.RootDir != "" {
		if fs, err := h.cfg.Statfs(h.cfg.RootDir); err == nil {
			n.Fs = wholeFsStats(at, fs)
		}
	}
	if h.cfg.ImageFsDir != "" {
		if fs, err := h.cfg.Statfs(h.cfg.ImageFsDir); err == nil {
			// What the images use is the runtime's to tell: unknown. The
			// writable layers are on the same filesystem.
			n.Runtime = &statsapi.RuntimeStats{ImageFs: fsStats(at, &fs, nil, nil), ContainerFs: fsStats(at, &fs, nil, nil)}
		}
	}
	n.Rlimit = h.proc.rlimit(at)
	return n
}
