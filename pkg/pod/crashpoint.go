package pod

import (
	"syscall"
)

// Crash points are steps at which fault tests make the daemon die with
// SIGKILL (daemon flag --test-crash-at), to check that a new daemon
// converges from whatever was left half-made.
const (
	CrashNetnsCreated     = "netns-created"     // netns exists, CNI not run
	CrashNetworkAttached  = "network-attached"  // pod IP allocated, pause maybe not started
	CrashSandboxStarted   = "sandbox-started"   // pause running, hosts files not written
	CrashContainerCreated = "container-created" // app container created, not started
	CrashContainersKilled = "containers-killed" // teardown: containers stopped, nothing removed
)

// crashAt kills the daemon if the configured crash point is name.
func (d *deps) crashAt(name string) {
	if d.cfg.CrashPoint == name {
		d.log.Warn("test crash point reached; killing the daemon")
		_ = d.log.Sync()
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it
	}
}
