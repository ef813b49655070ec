package integration

import (
	"bytes"
	"context"
	"fmt"
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

	"github.com/minilet/minilet/internal/testdaemon"
	"github.com/minilet/minilet/pkg/network"
)

// daemonSeq gives each daemon its own subnet, bridge and namespace.
var daemonSeq atomic.Int32

// daemon is one minilet process under test (internal/testdaemon), with its
// test and its output.
type daemon struct {
	*testdaemon.Daemon
	t      *testing.T
	n      int
	output *lockedBuffer
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
	return startDaemonWith(t, nil)
}

// startDaemonWith is startDaemon with the configuration changed by mod
// (nil: none) before the daemon is made.
func startDaemonWith(t *testing.T, mod func(*testdaemon.Config)) *daemon {
	t.Helper()
	needEnv(t)
	n := int(daemonSeq.Add(1))
	d := &daemon{t: t, n: n, output: &lockedBuffer{}}
	cfg := testdaemon.Config{
		Bin:               env.minilet,
		PauseBin:          env.pause,
		Dir:               filepath.Join(env.dir, fmt.Sprintf("d%d", n)),
		ContainerdAddress: env.containerd.address,
		Namespace:         fmt.Sprintf("minilet-it-%d-%d", os.Getpid(), n),
		Network:           fmt.Sprintf("minilet-it-%d-%d", os.Getpid(), n),
		Bridge:            fmt.Sprintf("mlt%d", n),
		Subnet:            fmt.Sprintf("10.231.%d.0/24", n),
		NodeName:          "testnode",
		Args: []string{
			"--rescan-interval", "2s",
			"--crash-loop-backoff-max", "2s",
			"--log-level", "debug",
		},
		Output: d.output,
	}
	if mod != nil {
		mod(&cfg)
	}
	var err error
	d.Daemon, err = testdaemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The test image goes into the daemon's namespace before it starts.
	if err := d.ImportImage(env.busyboxTar); err != nil {
		t.Fatalf("import busybox image: %v", err)
	}
	d.start()
	t.Cleanup(d.cleanup)
	return d
}

// start runs the daemon process and waits until its API answers.
func (d *daemon) start(extraArgs ...string) {
	d.t.Helper()
	if err := d.Start(context.Background(), 30*time.Second, extraArgs...); err != nil {
		// A daemon that does not come up: SIGQUIT makes the Go runtime
		// print every goroutine's stack into the output, to see where.
		d.signal(syscall.SIGQUIT)
		d.t.Fatalf("%v:\n%s", err, d.output.String())
	}
}

// startProcess runs the daemon process; the channel closes when it exits.
func (d *daemon) startProcess(extraArgs ...string) <-chan struct{} {
	d.t.Helper()
	exited, err := d.StartProcess(extraArgs...)
	if err != nil {
		d.t.Fatal(err)
	}
	return exited
}

// signal sends sig to the daemon and waits for it to exit.
func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.Signal(sig, 30*time.Second); err != nil {
		d.t.Error(err)
	}
}

// cleanup stops the daemon and removes what is left of its pods, so one
// test's leftovers never reach the next.
func (d *daemon) cleanup() {
	// First let the daemon remove its pods, as an operator would.
	if d.Running() {
		files, _ := filepath.Glob(filepath.Join(d.Manifests, "*"))
		for _, f := range files {
			_ = os.Remove(f)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			l, err := d.Client.ListPods(ctx, "")
			cancel()
			if err == nil && len(l.Items) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	d.signal(syscall.SIGTERM)
	if d.t.Failed() || os.Getenv("MINILET_TEST_LOGS") != "" {
		d.t.Logf("minilet output:\n%s", d.output.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, _ := env.containerd.ctr(ctx, d.Namespace, "containers", "ls", "-q")
	for _, id := range strings.Fields(ids) {
		_, _ = env.containerd.ctr(ctx, d.Namespace, "tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range strings.Fields(ids) {
		for i := 0; i < 50; i++ {
			if _, err := env.containerd.ctr(ctx, d.Namespace, "tasks", "delete", id); err == nil || strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = env.containerd.ctr(ctx, d.Namespace, "containers", "delete", id)
	}
	imgs, _ := env.containerd.ctr(ctx, d.Namespace, "images", "ls", "-q")
	for _, img := range strings.Fields(imgs) {
		_, _ = env.containerd.ctr(ctx, d.Namespace, "images", "rm", img)
	}
	netns, _ := filepath.Glob(filepath.Join(d.RunDir, "netns", "*"))
	for _, ns := range netns {
		_ = syscall.Unmount(ns, syscall.MNT_DETACH)
	}
	for _, m := range mountsUnder(d.Dir) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace + "/*/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace + "/*")
	nsDirs, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace)
	for _, cg := range append(append(cgroups, more...), nsDirs...) {
		_ = syscall.Rmdir(cg)
	}
	_ = exec.Command("ip", "link", "del", d.Bridge).Run()
	removeRulesOf(d.Network)
	_ = os.RemoveAll(d.Dir)
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

// metrics scrapes the daemon's /metrics.
func (d *daemon) metrics() string {
	d.t.Helper()
	m, err := d.Metrics(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return m
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
	if err := d.WriteManifest(name, content); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemon) removeManifest(name string) {
	d.t.Helper()
	if err := d.RemoveManifest(name); err != nil {
		d.t.Fatal(err)
	}
}

// pod fetches one pod from the daemon's API.
func (d *daemon) pod(ns, name string) (*v1.Pod, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.Client.GetPod(ctx, ns, name)
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
