package node

import (
	"time"

	v1 "k8s.io/api/core/v1"
)

// Info is what the daemon knows about its node from flags and from the
// host at start: everything in a v1.Node that is not a measurement.
type Info struct {
	// Name is the node's name (--node-name), also the
	// kubernetes.io/hostname label.
	Name string
	// Labels are the operator's --node-labels. They never override the
	// built-in labels (see BuiltinLabels).
	Labels map[string]string
	// MiniletVersion is minilet's version, shown as the kubelet version.
	MiniletVersion string
	// RuntimeVersion is the container runtime as the kubelet reports it:
	// "<runtime>://<version>", e.g. "containerd://1.7.35".
	RuntimeVersion string
	// InternalIP is the node's primary address; "" leaves it out.
	InternalIP string
	// Hostname is the Hostname address; "" means Name.
	Hostname string
	// PodCIDR is the subnet pods get their addresses from; "" leaves
	// spec.podCIDR empty.
	PodCIDR string
	// KubeletPort is the port of the kubelet API (cluster mode), shown in
	// status.daemonEndpoints; 0 shows none.
	KubeletPort int32
	// Created is the node's creationTimestamp: when minilet first ran on
	// this host (see SpecStore.Created).
	Created time.Time
	// System is the host's identity, as ReadSystemInfo finds it.
	System SystemInfo
}

// SystemInfo is the part of v1.NodeSystemInfo read from the host.
type SystemInfo struct {
	KernelVersion string // uname -r
	OSImage       string // PRETTY_NAME of /etc/os-release
	MachineID     string // /etc/machine-id
	SystemUUID    string // /sys/class/dmi/id/product_uuid, readable by root only
	BootID        string // /proc/sys/kernel/random/boot_id
}

// HostStats are the host's measurements that capacity and the node
// conditions come from. A zero field means "not known": no capacity is
// reported for it and it causes no pressure.
type HostStats struct {
	NumCPU int
	// Extended are the node's extended resources (CDI devices, counted
	// resources), in capacity and allocatable alike.
	Extended v1.ResourceList
	// MemoryTotal and MemoryAvailable are MemTotal and MemAvailable of
	// /proc/meminfo, in bytes.
	MemoryTotal     int64
	MemoryAvailable int64
	// MemoryWorkingSet is the memory in use less the inactive file
	// cache (MemTotal - MemFree - Inactive(file)): the kubelet's
	// memory.available is MemoryTotal less it.
	MemoryWorkingSet int64
	// FsCapacity and FsAvailable are the size and the space available to
	// unprivileged users of the filesystem holding minilet's state
	// directory (the kubelet's nodefs), in bytes.
	FsCapacity  int64
	FsAvailable int64
	// FsInodes and FsInodesFree count that filesystem's inodes.
	FsInodes, FsInodesFree int64
	// MaxPIDs is the system's limit on tasks: the smaller of
	// kernel.pid_max and kernel.threads-max. Tasks is how many exist now
	// (threads included), from /proc/loadavg.
	MaxPIDs int64
	Tasks   int64
	// RuntimeErr is why the container runtime is unhealthy; nil when it
	// answers. A non-nil RuntimeErr makes the node NotReady.
	RuntimeErr error
	// Pressure is what the eviction manager says of the node.
	Pressure Pressure
	// Reserved is what allocatable keeps back from capacity: the hard
	// eviction thresholds of memory.available and nodefs.available.
	// Zero: the kubelet's defaults (100Mi, 10%).
	Reserved Reserved
}

// Pressure is the node's pressure conditions, as eviction decides them.
type Pressure struct{ Memory, Disk, PID bool }

// Reserved is what allocatable keeps back, in bytes.
type Reserved struct {
	Set                      bool
	Memory, EphemeralStorage int64
}
