// Package statssummary serves the kubelet's Summary API
// (GET /stats/summary): the node's and each running pod's and
// container's CPU, memory, network and filesystem use, in the kubelet's
// stats/v1alpha1 types. CPU time and memory come from the cgroups, the
// network from /proc/<pid>/net/dev, filesystems from statfs(2); the CPU
// rate (usageNanoCores) is the change since the previous request.
// metrics-server and `kubectl get --raw .../stats/summary` read it.
package statssummary
