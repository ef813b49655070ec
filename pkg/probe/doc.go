// Package probe runs a container's liveness, readiness and startup probes
// with the kubelet's semantics (kubernetes pkg/kubelet/prober and
// pkg/probe).
//
// A Manager starts one worker goroutine per (container instance, probe
// kind). The worker is a thin loop over a timer; every decision of one tick
// (initial delay, startup gating, thresholds, hold after a failure,
// publish-on-change) lives in the pure step function in worker_step.go,
// which tests drive directly with made-up times.
//
// The prober never restarts anything: it publishes an Update on a channel
// when a probe's result changes, and the pod worker decides what to do.
// Handlers for exec, httpGet, tcpSocket and grpc live in probe_<kind>.go.
package probe
