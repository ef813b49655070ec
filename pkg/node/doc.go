// Package node is minilet's view of the host it runs on, in the shape of a
// Kubernetes v1.Node: labels, capacity and allocatable, the kubelet's four
// node conditions, system info and addresses. It also holds the node-level
// decisions the pod manager asks about: whether a pod's nodeSelector and
// required node affinity match this node (the kubelet's admission rule),
// whether a cordoned node may start a pod, and the cordon state itself,
// kept in a small file so that it survives a daemon restart.
//
// Building the Node is pure (Build takes the host's numbers and the time);
// the reads of /proc, statfs and /etc live in ReadHostStats and
// ReadSystemInfo, so tests hand Build whatever host they need.
package node
