// Package metrics holds minilet's Prometheus metrics and the HTTP endpoint
// that serves them, /healthz and, optionally, /debug/pprof/.
//
// Nothing here is global: [New] registers the collectors on a registry
// that main creates (never the default registry), and other packages
// observe through the returned [*Metrics], whose methods are no-ops on a
// nil receiver so that tests can pass nil. The pod and container gauges
// are built at scrape time from a [PodLister], in the style of
// node_exporter's collectors, so they never go stale; the per-pod series
// are deleted by [Metrics.ForgetPod] when their pod goes.
// [Metrics.InstrumentRuntime] wraps a runtime.Runtime to time its calls.
// [Handler] and [Serve] serve it all, on loopback unless the operator
// names another address.
//
// # Metrics
//
// The same table, ready for the README, is in METRICS.md.
//
//	metric                                       type       labels                                            kubelet equivalent
//	minilet_build_info                           gauge      version, goversion                                none (kubernetes_build_info)
//	minilet_pods                                 gauge      phase                                             kubelet_running_pods
//	minilet_containers                           gauge      state                                             kubelet_running_containers{container_state}
//	minilet_container_restarts_total             counter    namespace, pod, container, reason                 none
//	minilet_probe_total                          counter    namespace, pod, container, probe_type, result     prober_probe_total
//	minilet_probe_duration_seconds               histogram  probe_type                                        prober_probe_duration_seconds
//	minilet_pod_start_duration_seconds           histogram  -                                                 kubelet_pod_start_duration_seconds
//	minilet_runtime_operations_duration_seconds  histogram  operation                                         kubelet_runtime_operations_duration_seconds
//	minilet_runtime_operations_errors_total      counter    operation                                         kubelet_runtime_operations_errors_total
//	minilet_manifest_errors_total                counter    -                                                 none
//	minilet_image_pull_duration_seconds          histogram  -                                                 kubelet_image_pull_duration_seconds
//	go_*, process_*                              various    -                                                 the same collectors
//
// What each means:
//
//   - minilet_build_info: always 1; the labels name the minilet version
//     and the Go version that built it.
//   - minilet_pods: pods minilet manages, by phase (Pending, Running,
//     Succeeded, Failed, Unknown); every phase is reported, 0 when none. A
//     pod with no phase yet counts as Pending. The kubelet's
//     kubelet_running_pods is one number, pods with a running sandbox.
//   - minilet_containers: containers of those pods, app, init and sidecar
//     alike, by state (waiting, running, terminated); every state is
//     reported, 0 when none. The kubelet's states are the runtime's
//     (created, running, exited, unknown).
//   - minilet_container_restarts_total: restarts minilet made, by why the
//     previous instance ended or was killed: Error, Completed, OOMKilled,
//     LivenessProbe, StartupProbe, SandboxChanged, Restarted (minilet
//     restart pod). The kubelet has no
//     per-container restart metric.
//   - minilet_probe_total: probe runs; probe_type is Liveness, Readiness or
//     Startup and result is successful, failed or unknown, as in the
//     kubelet's prober_probe_total (which it serves on /metrics/probes).
//   - minilet_probe_duration_seconds: time taken by one probe run, buckets
//     0.5ms to 10s.
//   - minilet_pod_start_duration_seconds: time from a pod's manifest being
//     seen to all of its containers running, buckets 50ms to 60s.
//   - minilet_runtime_operations_duration_seconds and
//     minilet_runtime_operations_errors_total: duration and errors of
//     runtime calls, buckets 1ms to 30s. operation is the Runtime method in
//     snake_case: ensure_image, list_images, create_container,
//     start_container, stop_container, remove_container, container_status,
//     list_containers, exec, ping, version. Every operation's error counter
//     starts at 0. The kubelet calls the label operation_type.
//   - minilet_manifest_errors_total: manifests that could not be read,
//     decoded or validated.
//   - minilet_image_pull_duration_seconds: duration of the image ensures
//     that pulled (not those served from the local store), buckets 100ms to
//     300s.
package metrics
