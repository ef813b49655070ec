package integration

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

// containerdProc is a containerd the tests started for themselves.
type containerdProc struct {
	dir     string
	address string
	cmd     *exec.Cmd
	logPath string
}

// startContainerd runs containerd with its own socket, root and state under
// dir. The CRI plugin is disabled: minilet does not use it.
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
	return c, c.start(cfgPath)
}

func (c *containerdProc) start(cfgPath string) error {
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	c.cmd = exec.Command("containerd", "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", c.address); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("containerd did not open %s within 30s; see %s", c.address, c.logPath)
}

// stop stops containerd; the shims (and so the containers) keep running.
func (c *containerdProc) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// ctr runs the ctr tool against this containerd.
func (c *containerdProc) ctr(ctx context.Context, ns string, args ...string) (string, error) {
	full := append([]string{"--address", c.address, "--namespace", ns}, args...)
	out, err := exec.CommandContext(ctx, "ctr", full...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
