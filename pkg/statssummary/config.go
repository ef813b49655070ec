package statssummary

import (
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/eviction"
)

// Cgroups reads what a cgroup uses (cgroupfs.FS); "/" is the machine.
type Cgroups interface {
	// CPUUsage is the CPU time the cgroup's tasks used, in nanoseconds.
	CPUUsage(cgroup string) (int64, error)
	// WorkingSet is the memory in use less the inactive file cache.
	WorkingSet(cgroup string) (int64, error)
	// MemoryUsage is the memory in use, page cache included.
	MemoryUsage(cgroup string) (int64, error)
	// RSS is the anonymous and swap-cache memory.
	RSS(cgroup string) (int64, error)
	// PageFaults are the page faults so far: all and the major ones.
	PageFaults(cgroup string) (faults, major int64, err error)
	// Processes is how many tasks the cgroup has.
	Processes(cgroup string) (int64, error)
}

// Config is what the summary reads.
type Config struct {
	// NodeName is the node's name in the summary.
	NodeName string
	// Pods are the running pods with their cgroups and directories
	// (pod.Manager.EvictionCandidates). Required.
	Pods func() []eviction.PodRef
	// Cgroups reads their use. Required.
	Cgroups Cgroups
	// Name is the name a pod has in the summary (nil: its own). In
	// cluster mode a file's pod is named as its mirror pod, so that
	// metrics-server finds it.
	Name func(*v1.Pod) string
	// PodPID is the PID of a process in the pod's network namespace
	// (the sandbox's), whose /proc/<pid>/net/dev are the pod's network
	// counters; 0 or a nil func: unknown, and the pod has no network
	// stats.
	PodPID func(*v1.Pod) uint32
	// Statfs measures the filesystem holding a path (nil: Statfs).
	Statfs func(path string) (FsInfo, error)
	// RootDir is minilet's root directory, whose filesystem is the
	// node's (nodefs); "": no node filesystem stats.
	RootDir string
	// ImageFsDir is the container runtime's root (containerd's), whose
	// filesystem holds the images and the containers' writable layers
	// (imagefs); "": no runtime stats.
	ImageFsDir string
	// ProcRoot is where procfs is mounted ("": /proc).
	ProcRoot string
	// Now is the clock that stamps each reading (nil: time.Now).
	Now func() time.Time
}
