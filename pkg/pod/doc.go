// Package pod drives pods toward their desired state. The Manager receives
// the complete desired set from the manifest source, diffs it against the
// pods it runs, and keeps one worker goroutine per pod. A worker's sync is
// level-triggered: it lists the pod's containers from the runtime, compares
// them with the spec and acts (make the sandbox, run init containers in
// order, start or restart app containers with back-off, or tear it all
// down). Exits from the runtime's event stream and back-off timers wake it.
//
// Pods outlive the daemon: stopping the Manager stops the workers but not
// the containers, and a new Manager adopts them from container labels and
// the pod.json kept in each pod's state directory.
package pod
