// Package testdaemon runs a minilet daemon for the integration tests and the
// benchmark: its own directories below one, its own containerd namespace,
// CNI network, bridge and subnet, a free loopback metrics port, and the
// process in its own process group. Both harnesses build on it, so the
// daemon they measure and the one they test are started the same way.
package testdaemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minilet/minilet/pkg/server"
)

// Config describes a daemon under test.
type Config struct {
	Bin               string // the minilet binary
	PauseBin          string // --pause-binary
	Dir               string // every directory of the daemon goes below it
	ContainerdAddress string
	Namespace         string // containerd namespace
	Network           string // CNI network name (iptables rules carry it)
	Bridge            string
	Subnet            string
	NodeName          string
	// Args are more flags of `minilet daemon` (log level and format,
	// back-off cap, rescan interval...), after the ones New sets.
	Args   []string
	Env    []string  // added to the environment of the daemon process
	Output io.Writer // its stdout and stderr (nil: discarded)
}

// Daemon is one minilet daemon under test. Args may be changed between
// starts.
type Daemon struct {
	Config
	Manifests   string // --manifest-dir
	RootDir     string
	RunDir      string
	LogDir      string // --pod-log-dir
	LinkDir     string // --container-log-link-dir
	CNIConf     string
	MetricsAddr string
	Args        []string // the whole command line after the binary
	Client      *server.Client

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// New makes the daemon's directories and command line; Start runs it.
func New(c Config) (*Daemon, error) {
	d := &Daemon{
		Config:    c,
		Manifests: filepath.Join(c.Dir, "manifests"),
		RootDir:   filepath.Join(c.Dir, "root"),
		RunDir:    filepath.Join(c.Dir, "run"),
		LogDir:    filepath.Join(c.Dir, "logs"),
		LinkDir:   filepath.Join(c.Dir, "containers"),
		CNIConf:   filepath.Join(c.Dir, "cni"),
	}
	for _, p := range []string{d.Manifests, d.CNIConf} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	addr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	d.MetricsAddr = addr
	d.Args = append([]string{"daemon",
		"--manifest-dir", d.Manifests,
		"--containerd-address", c.ContainerdAddress,
		"--containerd-namespace", c.Namespace,
		"--root-dir", d.RootDir,
		"--run-dir", d.RunDir,
		"--pod-log-dir", d.LogDir,
		"--container-log-link-dir", d.LinkDir,
		"--cni-conf-dir", d.CNIConf,
		"--pod-cidr", c.Subnet,
		"--network-name", c.Network,
		"--bridge-name", c.Bridge,
		"--pause-binary", c.PauseBin,
		"--node-name", c.NodeName,
		"--metrics-address", d.MetricsAddr,
	}, c.Args...)
	d.Client = server.NewClient(d.RunDir)
	return d, nil
}

// ImportImage imports an image archive into the daemon's namespace with
// minilet's own command.
func (d *Daemon) ImportImage(tar string) error {
	out, err := exec.Command(d.Bin, "images", "import", "--containerd-address", d.ContainerdAddress,
		"--containerd-namespace", d.Namespace, tar).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import %s: %v\n%s", tar, err, out)
	}
	return nil
}

// StartProcess runs the daemon with extraArgs after Args; the channel
// closes when it exits.
func (d *Daemon) StartProcess(extraArgs ...string) (<-chan struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cmd := exec.Command(d.Bin, append(append([]string{}, d.Args...), extraArgs...)...)
	cmd.Stdout, cmd.Stderr = d.Output, d.Output
	cmd.Env = append(os.Environ(), d.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start minilet: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	d.cmd, d.exited = cmd, exited
	return exited, nil
}

// WaitAPI polls the API every 5 ms until it lists pods, the process
// exits, or timeout passes.
func (d *Daemon) WaitAPI(ctx context.Context, timeout time.Duration) error {
	d.mu.Lock()
	exited := d.exited
	d.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("minilet exited")
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := d.Client.ListPods(cctx, "")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minilet's API did not answer within %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Start runs the daemon and returns once its API answers.
func (d *Daemon) Start(ctx context.Context, timeout time.Duration, extraArgs ...string) error {
	if _, err := d.StartProcess(extraArgs...); err != nil {
		return err
	}
	return d.WaitAPI(ctx, timeout)
}

// Signal sends sig to the daemon and waits for it to exit; after timeout
// it kills it and says so. A daemon that does not run is fine.
func (d *Daemon) Signal(sig syscall.Signal, timeout time.Duration) error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("minilet did not exit within %v of %v", timeout, sig)
	}
}

// Kill SIGKILLs the daemon's process group (the daemon and the CNI plugins
// it may be running) and waits for it to exit, as a crash would end it.
func (d *Daemon) Kill() {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// Exited forgets a daemon process that ended by itself (a test crash
// point); the channel StartProcess returned has closed.
func (d *Daemon) Exited() {
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
}

// Running reports whether the daemon process runs.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// PID is the daemon's process ID (0 when it does not run).
func (d *Daemon) PID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// StageManifest writes a manifest to a dotfile in the manifest dir;
// commit renames it into place, as operators are told to write files.
func (d *Daemon) StageManifest(name, content string) (commit func() error, err error) {
	return d.stage(name, content, 0o644)
}

func (d *Daemon) stage(name, content string, mode os.FileMode) (commit func() error, err error) {
	tmp := filepath.Join(d.Manifests, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return nil, err
	}
	return func() error { return os.Rename(tmp, filepath.Join(d.Manifests, name)) }, nil
}

// WriteManifestMode writes a manifest atomically with the given mode (a
// file holding a Secret must not be readable by group or others).
func (d *Daemon) WriteManifestMode(name, content string, mode os.FileMode) error {
	commit, err := d.stage(name, content, mode)
	if err != nil {
		return err
	}
	return commit()
}

// WriteManifest writes a manifest atomically (StageManifest and commit).
func (d *Daemon) WriteManifest(name, content string) error {
	commit, err := d.StageManifest(name, content)
	if err != nil {
		return err
	}
	return commit()
}

// RemoveManifest removes one manifest file.
func (d *Daemon) RemoveManifest(name string) error {
	return os.Remove(filepath.Join(d.Manifests, name))
}

// RemoveAllManifests empties the manifest dir.
func (d *Daemon) RemoveAllManifests() {
	files, _ := filepath.Glob(filepath.Join(d.Manifests, "*"))
	hidden, _ := filepath.Glob(filepath.Join(d.Manifests, ".*"))
	for _, f := range append(files, hidden...) {
		_ = os.Remove(f)
	}
}

// Metrics scrapes the daemon's /metrics.
func (d *Daemon) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.MetricsAddr+"/metrics", nil)
	if err != nil {
		return "", err
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// handed are the addresses FreeLoopbackAddr gave in this process: a
// daemon that is down (killed by a test, about to restart) leaves its port
// free, and it must not go to another daemon.
var (
	handedMu sync.Mutex
	handed   = map[string]bool{}
)

// FreeLoopbackAddr finds a free TCP port on 127.0.0.1 below the kernel's
// ephemeral port range: a daemon restarted on it must not find it taken
// by the local end of some connection (a probe's, a client's) made while
// it was down, as a port from the ephemeral range can be, nor given to
// another daemon (seen in CI: "bind: address already in use" after a
// SIGKILL).
func FreeLoopbackAddr() (string, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const from = 10000
	if low <= from+100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer l.Close()
		return l.Addr().String(), nil
	}
	handedMu.Lock()
	defer handedMu.Unlock()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", from+rand.IntN(low-from))
		if handed[addr] {
			continue // another daemon of this test binary has it, maybe down now
		}
		l, err := net.Listen("tcp", addr)
		if err == nil {
			l.Close()
			handed[addr] = true
			return addr, nil
		}
	}
	return "", errors.New("no free port on 127.0.0.1 below the ephemeral range")
}
