// Package kubeletapi serves the kubelet's API on its port (10250) in
// cluster mode, so that the API server's logs, exec and attach reach
// minilet's pods (kubectl logs, kubectl exec): /healthz, /pods, /metrics,
// /containerLogs, /exec and /attach (WebSocket and SPDY, with the
// kubelet's own stream code from k8s.io/kubelet). Clients are
// authenticated by a client certificate or a bearer token (TokenReview)
// and authorized by the API server (SubjectAccessReview), as the kubelet
// does with webhook authentication and authorization.
package kubeletapi
