// Package server is minilet's local status API: a small, read-only,
// Kubernetes-shaped HTTP API served on a Unix socket in the daemon's run
// directory, and the client the CLI uses to read it.
//
// Paths and bodies follow the Kubernetes API, so the JSON is what kubectl
// users expect:
//
//	GET /healthz                                     "ok", or 503 with the error
//	GET /api/v1/pods                                 v1.PodList, all namespaces
//	GET /api/v1/namespaces/{ns}/pods                 v1.PodList of one namespace
//	GET /api/v1/namespaces/{ns}/pods/{name}          v1.Pod
//	GET /api/v1/namespaces/{ns}/pods/{name}/events   v1.EventList
//
// Errors are metav1.Status bodies with a 4xx or 5xx code. The socket is
// mode 0600: only its owner (root, for the daemon) can talk to it.
package server
