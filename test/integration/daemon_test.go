package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/server"
)

// daemonSeq gives each daemon its own subnet, bridge and namespace.
var daemonSeq atomic.Int32

// daemon is one minilet process under test, with its own directories,
// containerd namespace and CNI network.
type daemon struct {
	t           *testing.T
	n           int
	dir         string
	namespace   string // containerd namespace
	manifests   string
	rootDir     string
	runDir      string
	logDir      string
	linkDir     string // the daemon's /var/log/containers
	cniConf     string
	bridge      string
	network     string // CNI network name, unique per run: rules carry it
	subnet      string
	args        []string
	metricsAddr string
	env         []string // extra environment of the daemon process

	mu     sync.Mutex
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{}
	client *server.Client
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDaemon starts a minilet daemon for t and registers its cleanup:
// stop the daemon, then remove whatever its pods left (a test that checks
// cleanliness does so itself, before that).
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	needEnv(t)
	n := int(daemonSeq.Add(1))
	dir := filepath.Join(env.dir, fmt.Sprintf("d%d", n))
	d := &daemon{
		t: t, n: n, dir: dir,
		namespace: fmt.Sprintf("minilet-it-%d-%d", os.Getpid(), n),
		manifests: filepath.Join(dir, "manifests"),
		rootDir:   filepath.Join(dir, "root"),
		runDir:    filepath.Join(dir, "run"),
		logDir:    filepath.Join(dir, "logs"),
		linkDir:   filepath.Join(dir, "containers"),
		cniConf:   filepath.Join(dir, "cni"),
		bridge:    fmt.Sprintf("mlt%d", n),
		network:   fmt.Sprintf("minilet-it-%d-%d", os.Getpid(), n),
		subnet:    fmt.Sprintf("10.231.%d.0/24", n),
	}
	d.metricsAddr = freeLoopbackAddr(t)
	for _, p := range []string{d.manifests, d.cniConf} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.args = []string{"daemon",
		"--manifest-dir", d.manifests,
		"--containerd-address", env.containerd.address,
		"--containerd-namespace", d.namespace,
		"--root-dir", d.rootDir,
		"--run-dir", d.runDir,
		"--pod-log-dir", d.logDir,
		"--container-log-link-dir", d.linkDir,
		"--cni-conf-dir", d.cniConf,
		"--pod-cidr", d.subnet,
		"--network-name", d.network,
		"--bridge-name", d.bridge,
		"--pause-binary", env.pause,
		"--node-name", "testnode",
		"--metrics-address", d.metricsAddr,
		"--rescan-interval", "2s",
		"--crash-loop-backoff-max", "2s",
		"--log-level", "debug",
	}
	// The test image goes into the daemon's namespace before it starts.
	out, err := exec.Command(env.minilet, "images", "import", "--containerd-address", env.containerd.address,
		"--containerd-namespace", d.namespace, env.busyboxTar).CombinedOutput()
	if err != nil {
		t.Fatalf("import busybox image: %v\n%s", err, out)
	}
	d.client = server.NewClient(d.runDir)
	d.start()
	t.Cleanup(d.cleanup)
	return d
}

// start runs the daemon process and waits until its API answers.
func (d *daemon) start(extraArgs ...string) {
	d.t.Helper()
	exited := d.startProcess(extraArgs...)
	d.eventually(30*time.Second, "the daemon's API answers", func() error {
		select {
		case <-exited:
			return fmt.Errorf("minilet exited: %s", d.output.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.client.ListPods(ctx, "")
		return err
	})
}

// startProcess runs the daemon process; the channel closes when it exits.
func (d *daemon) startProcess(extraArgs ...string) <-chan struct{} {
	d.t.Helper()
	d.mu.Lock()
	if d.output == nil {
		d.output = &lockedBuffer{}
	}
	cmd := exec.Command(env.minilet, append(append([]string{}, d.args...), extraArgs...)...)
	cmd.Stdout, cmd.Stderr = d.output, d.output
	cmd.Env = append(os.Environ(), d.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		d.mu.Unlock()
		d.t.Fatalf("start minilet: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()
	return exited
}

// signal sends sig to the daemon and waits for it to exit.
func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		d.t.Errorf("minilet did not exit within 30s of %v", sig)
	}
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
}

// cleanup stops the daemon and removes what is left of its pods, so one
// test's leftovers never reach the next.
func (d *daemon) cleanup() {
	// First let the daemon remove its pods, as an operator would.
	d.mu.Lock()
	running := d.cmd != nil
	d.mu.Unlock()
	if running {
		files, _ := filepath.Glob(filepath.Join(d.manifests, "*"))
		for _, f := range files {
			_ = os.Remove(f)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			l, err := d.client.ListPods(ctx, "")
			cancel()
			if err == nil && len(l.Items) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	d.signal(syscall.SIGTERM)
	if d.t.Failed() {
		d.t.Logf("minilet output:\n%s", d.output.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, _ := env.containerd.ctr(ctx, d.namespace, "containers", "ls", "-q")
	for _, id := range strings.Fields(ids) {
		_, _ = env.containerd.ctr(ctx, d.namespace, "tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range strings.Fields(ids) {
		for i := 0; i < 50; i++ {
			if _, err := env.containerd.ctr(ctx, d.namespace, "tasks", "delete", id); err == nil || strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = env.containerd.ctr(ctx, d.namespace, "containers", "delete", id)
	}
	imgs, _ := env.containerd.ctr(ctx, d.namespace, "images", "ls", "-q")
	for _, img := range strings.Fields(imgs) {
		_, _ = env.containerd.ctr(ctx, d.namespace, "images", "rm", img)
	}
	netns, _ := filepath.Glob(filepath.Join(d.runDir, "netns", "*"))
	for _, ns := range netns {
		_ = syscall.Unmount(ns, syscall.MNT_DETACH)
	}
	for _, m := range mountsUnder(d.dir) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.namespace + "/*/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.namespace + "/*")
	nsDirs, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.namespace)
	for _, cg := range append(append(cgroups, more...), nsDirs...) {
		_ = syscall.Rmdir(cg)
	}
	_ = exec.Command("ip", "link", "del", d.bridge).Run()
	removeRulesOf(d.network)
	_ = os.RemoveAll(d.dir)
}

// iptablesRulesOf lists the nat rules that CNI made for a network (their
// comment names it).
func iptablesRulesOf(network string) []string {
	out, _ := exec.Command("iptables", "-t", "nat", "-S").Output()
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "-A ") && strings.Contains(line, `name: \"`+network+`\"`) {
			rules = append(rules, line)
		}
	}
	return rules
}

// removeRulesOf deletes what a failed test left of a network's rules.
func removeRulesOf(networkName string) {
	_ = network.SweepNetworkRules(context.Background(), networkName, zap.NewNop())
}

// freeLoopbackAddr finds a free port on 127.0.0.1 for the daemon's metrics.
func freeLoopbackAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// metrics scrapes the daemon's /metrics.
func (d *daemon) metrics() string {
	d.t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + d.metricsAddr + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return string(b)
}

// eventually polls f until it returns nil or the deadline passes.
func (d *daemon) eventually(timeout time.Duration, what string, f func() error) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out after %v waiting until %s: %v", timeout, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeManifest writes a manifest atomically (temp dotfile + rename), as
// operators are told to.
func (d *daemon) writeManifest(name, content string) {
	d.t.Helper()
	tmp := filepath.Join(d.manifests, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.manifests, name)); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemon) removeManifest(name string) {
	d.t.Helper()
	if err := os.Remove(filepath.Join(d.manifests, name)); err != nil {
		d.t.Fatal(err)
	}
}

// pod fetches one pod from the daemon's API.
func (d *daemon) pod(ns, name string) (*v1.Pod, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.client.GetPod(ctx, ns, name)
}

// waitPod polls the pod until cond holds and returns it.
func (d *daemon) waitPod(name string, timeout time.Duration, what string, cond func(*v1.Pod) error) *v1.Pod {
	d.t.Helper()
	var got *v1.Pod
	d.eventually(timeout, "pod "+name+" "+what, func() error {
		p, err := d.pod("default", name)
		if err != nil {
			return err
		}
		if err := cond(p); err != nil {
			return err
		}
		got = p
		return nil
	})
	return got
}

// allRunning is a waitPod condition: phase Running, every container running.
func allRunning(p *v1.Pod) error {
	if p.Status.Phase != v1.PodRunning {
		return fmt.Errorf("phase %s", p.Status.Phase)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return fmt.Errorf("container %s not running: %+v", cs.Name, cs.State)
		}
	}
	return nil
}

// podGone is a waitPod-like check that the API no longer lists the pod.
func (d *daemon) waitGone(name string, timeout time.Duration) {
	d.t.Helper()
	d.eventually(timeout, "pod "+name+" is gone", func() error {
		_, err := d.pod("default", name)
		if err == nil {
			return fmt.Errorf("still listed")
		}
		if !strings.Contains(err.Error(), "not found") {
			return err
		}
		return nil
	})
}
