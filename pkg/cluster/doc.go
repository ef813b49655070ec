// Package cluster makes minilet a node of a real Kubernetes cluster
// (--kubeconfig): it registers the Node and keeps its status and Lease
// fresh, reads the node's spec (cordon, labels, taints) from the API
// server and writes local changes through to it, and mirrors the pods of
// the manifest directory as the kubelet mirrors static pods. It talks to
// the API server only through client-go. Without --kubeconfig nothing
// here runs.
package cluster
