package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// containerdProc is the bench's own containerd: its own socket, root and
// state, so it never meets another containerd on the machine.
type containerdProc struct {
	dir     string
	address string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startContainerd runs containerd under dir, with the CRI plugin off as
// minilet does not use it.
func startContainerd(dir string) (*containerdProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c := &containerdProc{dir: dir, address: filepath.Join(dir, "containerd.sock"), logPath: filepath.Join(dir, "containerd.log")}
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
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.address, c.address+".ttrpc")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	c.cmd = exec.Command("containerd", "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C on the terminal reaches only the
	// bench, which then stops containerd after cleaning up.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	c.exited = make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", c.address); err == nil {
			conn.Close()
			return c, nil
		}
		select {
		case <-c.exited:
			return c, fmt.Errorf("containerd exited at start; see %s", c.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return c, fmt.Errorf("containerd did not open %s within 30s; see %s", c.address, c.logPath)
}

// stop stops containerd (SIGTERM, then SIGKILL after 10s).
func (c *containerdProc) stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}
