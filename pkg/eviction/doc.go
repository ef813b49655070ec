// Package eviction is minilet's node-pressure eviction, as the kubelet's
// eviction manager: it watches the kubelet's signals (memory.available,
// nodefs.available, nodefs.inodesFree, imagefs.available,
// imagefs.inodesFree, pid.available) against hard and soft thresholds
// spelled as the kubelet's flags, reports the node's MemoryPressure,
// DiskPressure and PIDPressure conditions, reclaims node-level resources
// first (unused images) and then evicts one pod at a time in the
// kubelet's order. Pods from manifest files are the kubelet's static
// pods, critical, and are not evicted unless the operator asks for it.
//
// Plan decides (a pure function of thresholds, observations, pods and
// what the manager remembers); Manager observes the host and the pods,
// and carries the decision out.
package eviction
