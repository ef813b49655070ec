// Package testcontainerd runs a private containerd for minilet's
// integration tests and benchmark: its own socket, root and state
// directories under one directory, the CRI plugin off (minilet does not use
// it), so it never meets another containerd on the machine.
package testcontainerd

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a running private containerd.
type Process struct {
	Dir     string // holds config.toml, root/, state/, the socket and the log
	Address string // the gRPC socket
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Start writes a config under dir and starts containerd on it. The process
// gets its own process group: a Ctrl-C on a terminal reaches only the
// caller, which stops containerd after cleaning up.
func Start(dir string) (*Process, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &Process{Dir: dir, Address: filepath.Join(dir, "containerd.sock"), LogPath: filepath.Join(dir, "containerd.log")}
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
`, filepath.Join(dir, "root"), p.StateDir(), p.Address, p.Address+".ttrpc")
	if err := os.WriteFile(p.configPath(), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return p, p.Restart()
}

func (p *Process) configPath() string { return filepath.Join(p.Dir, "config.toml") }

// StateDir is containerd's state directory (tasks' bundles and rootfs
// mounts): what lives in /run/containerd, lost at a reboot, where root/ is
// kept.
func (p *Process) StateDir() string { return filepath.Join(p.Dir, "state") }

// Restart starts containerd again on the same config (after Stop).
func (p *Process) Restart() error {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	p.cmd = exec.Command("containerd", "--config", p.configPath())
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	exited := make(chan struct{})
	p.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(p.cmd)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", p.Address); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("containerd exited at start; see %s", p.LogPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("containerd did not open %s within 30s; see %s", p.Address, p.LogPath)
}

// Stop stops containerd: SIGTERM, then SIGKILL after 10s. The shims, and
// so the containers, keep running.
func (p *Process) Stop() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Kill kills containerd with SIGKILL, as a crash or the OOM killer would,
// and waits for it to exit. The shims, and so the containers, keep
// running; Restart starts it again.
func (p *Process) Kill() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Running reports whether the containerd started last is still running.
func (p *Process) Running() bool {
	if p == nil || p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Ctr runs the ctr tool against this containerd in namespace ns.
func (p *Process) Ctr(ctx context.Context, ns string, args ...string) (string, error) {
	full := append([]string{"--address", p.Address, "--namespace", ns}, args...)
	out, err := exec.CommandContext(ctx, "ctr", full...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Pid is containerd's process ID (0 when not running).
func (p *Process) Pid() int {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
