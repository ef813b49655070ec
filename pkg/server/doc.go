// Package server is minilet's local API: a small, Kubernetes-shaped HTTP
// API served on a Unix socket in the daemon's run directory, and the client
// the CLI uses.
//
// Paths and bodies follow the Kubernetes API, so the JSON is what kubectl
// users expect:
//
//	GET  /healthz                                     "ok", or 503 with the error
//	GET  /api/v1/pods[?watch=true]                    v1.PodList, all namespaces (or a stream of watch events)
//	GET  /api/v1/namespaces/{ns}/pods[?watch=true]    v1.PodList of one namespace
//	GET  /api/v1/namespaces/{ns}/pods/{name}          v1.Pod
//	GET  /api/v1/namespaces/{ns}/pods/{name}/events   v1.EventList
//	GET  /api/v1/namespaces/{ns}/pods/{name}/log      text stream (container, previous, follow, timestamps, tailLines, sinceSeconds, sinceTime)
//	GET  /api/v1/manifesterrors                       manifest files that could not be applied, and why
//	GET  /api/v1/node                                 v1.Node
//	POST /api/v1/node/cordon, /uncordon, /drain       cordon state and drain (gracePeriod=N)
//
// The optional endpoints answer only when the PodSource implements the
// matching interface (LogLocator, ManifestErrorSource, NodeController).
// Errors are metav1.Status bodies with a 4xx or 5xx code. The socket is
// mode 0600: only its owner (root, for the daemon) can talk to it.
package server
