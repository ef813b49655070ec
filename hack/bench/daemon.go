package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
	"github.com/minilet/minilet/pkg/server"
)

// Network of the daemon's pods (the floor has its own, see floor.go).
const (
	daemonNetwork = "minilet-bench"
	daemonBridge  = "mlbench0"
	daemonSubnet  = "10.232.0.0/17"
)

// daemon is the minilet process under test, with its own directories,
// containerd namespace and CNI network.
type daemon struct {
	bin         string
	dir         string
	namespace   string
	manifests   string
	rootDir     string
	runDir      string
	logDir      string
	cniConf     string
	metricsAddr string
	logPath     string
	args        []string
	env         []string // added to the bench's environment

	cmd    *exec.Cmd
	exited chan struct{}
	client *server.Client
	// rt reads the daemon's containers (labels, PIDs) in its namespace;
	// the bench never changes them through it, except in cleanup.
	rt *rtcontainerd.Runtime
}

func newDaemon(bin, pauseBin, dir, containerdAddr, namespace string) (*daemon, error) {
	d := &daemon{
		bin: bin, dir: dir, namespace: namespace,
		manifests: filepath.Join(dir, "manifests"),
		rootDir:   filepath.Join(dir, "root"),
		runDir:    filepath.Join(dir, "run"),
		logDir:    filepath.Join(dir, "logs"),
		cniConf:   filepath.Join(dir, "cni"),
		logPath:   filepath.Join(dir, "minilet.log"),
	}
	for _, p := range []string{d.manifests, d.cniConf} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	d.metricsAddr = addr
	d.args = []string{"daemon",
		"--manifest-dir", d.manifests,
		"--containerd-address", containerdAddr,
		"--containerd-namespace", d.namespace,
		"--root-dir", d.rootDir,
		"--run-dir", d.runDir,
		"--pod-log-dir", d.logDir,
		"--container-log-link-dir", filepath.Join(dir, "containers"),
		"--cni-conf-dir", d.cniConf,
		"--pod-cidr", daemonSubnet,
		"--network-name", daemonNetwork,
		"--bridge-name", daemonBridge,
		"--pause-binary", pauseBin,
		"--node-name", "bench",
		"--metrics-address", d.metricsAddr,
		"--crash-loop-backoff-max", "10s",
		"--log-level", "info",
		"--log-format", "json",
	}
	d.client = server.NewClient(d.runDir)
	d.rt, err = rtcontainerd.New(rtcontainerd.Options{Address: containerdAddr, Namespace: namespace}, zap.NewNop())
	return d, err
}

// importImage imports an image archive into the daemon's namespace with
// minilet's own command.
func (d *daemon) importImage(containerdAddr, tar string) error {
	out, err := exec.Command(d.bin, "images", "import", "--containerd-address", containerdAddr,
		"--containerd-namespace", d.namespace, tar).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import %s: %v\n%s", tar, err, out)
	}
	return nil
}

// start runs the daemon and returns once its API answers.
func (d *daemon) start(ctx context.Context) error {
	if err := d.startProcess(); err != nil {
		return err
	}
	return d.waitAPI(ctx, 60*time.Second)
}

func (d *daemon) startProcess() error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(d.bin, d.args...)
	cmd.Env = append(os.Environ(), d.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start minilet: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	d.cmd, d.exited = cmd, exited
	return nil
}

// waitAPI polls the API every 5ms until it lists pods.
func (d *daemon) waitAPI(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("minilet exited; see %s", d.logPath)
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := d.client.ListPods(cctx, "")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minilet's API did not answer within %v: %w; see %s", timeout, err, d.logPath)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// pid is the daemon's process ID (0 when it is not running).
func (d *daemon) pid() int {
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// alive reports whether the daemon process runs.
func (d *daemon) alive() bool {
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

// stop sends SIGTERM and waits for the daemon to exit (SIGKILL after 30s).
// Pods keep running.
func (d *daemon) stop() error {
	if !d.alive() {
		d.cmd = nil
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		err = errors.New("minilet did not exit within 30s of SIGTERM")
	}
	d.cmd = nil
	return err
}

// stageManifest writes a manifest's content to a dotfile in the manifest
// dir; commit renames it into place, which is the moment it is "written".
func (d *daemon) stageManifest(name, content string) (commit func() error, err error) {
	tmp := filepath.Join(d.manifests, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return nil, err
	}
	return func() error { return os.Rename(tmp, filepath.Join(d.manifests, name)) }, nil
}

func (d *daemon) removeManifest(name string) error {
	return os.Remove(filepath.Join(d.manifests, name))
}

// removeAllManifests empties the manifest dir.
func (d *daemon) removeAllManifests() {
	files, _ := filepath.Glob(filepath.Join(d.manifests, "*"))
	hidden, _ := filepath.Glob(filepath.Join(d.manifests, ".*"))
	for _, f := range append(files, hidden...) {
		_ = os.Remove(f)
	}
}

// pod fetches one pod of namespace default.
func (d *daemon) pod(ctx context.Context, name string) (*v1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.client.GetPod(cctx, "default", name)
}

func (d *daemon) pods(ctx context.Context) ([]v1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := d.client.ListPods(cctx, "")
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// waitPod polls the pod every interval until cond holds.
func (d *daemon) waitPod(ctx context.Context, name string, interval, timeout time.Duration, cond func(*v1.Pod) error) (*v1.Pod, error) {
	deadline := time.Now().Add(timeout)
	for {
		p, err := d.pod(ctx, name)
		if err == nil {
			if err = cond(p); err == nil {
				return p, nil
			}
		}
		if !d.alive() {
			return nil, fmt.Errorf("minilet exited; see %s", d.logPath)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("pod %s: timed out after %v: %w", name, timeout, err)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

// waitPods polls the pod list every interval until cond holds.
func (d *daemon) waitPods(ctx context.Context, interval, timeout time.Duration, cond func([]v1.Pod) error) ([]v1.Pod, error) {
	deadline := time.Now().Add(timeout)
	for {
		ps, err := d.pods(ctx)
		if err == nil {
			if err = cond(ps); err == nil {
				return ps, nil
			}
		}
		if !d.alive() {
			return nil, fmt.Errorf("minilet exited; see %s", d.logPath)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("timed out after %v: %w", timeout, err)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

// waitNoPods waits until the API lists no pod and containerd holds none
// of the daemon's containers.
func (d *daemon) waitNoPods(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ps, err := d.pods(ctx)
		if err == nil && len(ps) == 0 {
			cs, err2 := d.rt.ListContainers(ctx, nil)
			if err2 == nil && len(cs) == 0 {
				return nil
			}
			err = fmt.Errorf("%d containers left", len(cs))
			if err2 != nil {
				err = err2
			}
		} else if err == nil {
			err = fmt.Errorf("%d pods left", len(ps))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pods not removed within %v: %w", timeout, err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// containers lists the daemon's containers of one pod (by UID).
func (d *daemon) containers(ctx context.Context, uid string) ([]runtime.Container, error) {
	return d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodUID: uid})
}

// lastStarted is the latest StartedAt of the pod's app containers, read
// from the label the runtime writes right after the task started (the API
// prints times to the second).
func (d *daemon) lastStarted(ctx context.Context, uid string, want int) (time.Time, error) {
	cs, err := d.containers(ctx, uid)
	if err != nil {
		return time.Time{}, err
	}
	return lastAppStart(cs, want)
}

// lastAppStart is the latest StartedAt among the running app containers;
// there must be want of them.
func lastAppStart(cs []runtime.Container, want int) (time.Time, error) {
	var last time.Time
	n := 0
	for _, c := range cs {
		if c.Labels[podsandbox.LabelContainerType] != podsandbox.TypeApp || c.State != runtime.StateRunning {
			continue
		}
		if c.StartedAt.IsZero() {
			return time.Time{}, fmt.Errorf("container %s has no start time", c.ID)
		}
		n++
		if c.StartedAt.After(last) {
			last = c.StartedAt
		}
	}
	if n != want {
		return time.Time{}, fmt.Errorf("%d running app containers, want %d", n, want)
	}
	return last, nil
}

// metrics scrapes the daemon's /metrics.
func (d *daemon) metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.metricsAddr+"/metrics", nil)
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

// sumMetric adds up every sample of a counter in Prometheus text format.
func sumMetric(text, name string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// allRunning holds when the pod runs with want containers, all running.
func allRunning(want int) func(*v1.Pod) error {
	return func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodRunning {
			return fmt.Errorf("phase %q", p.Status.Phase)
		}
		if len(p.Status.ContainerStatuses) != want {
			return fmt.Errorf("%d container statuses, want %d", len(p.Status.ContainerStatuses), want)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running == nil {
				return fmt.Errorf("container %s not running", cs.Name)
			}
		}
		return nil
	}
}

// podReady holds when the pod's Ready condition is true.
func podReady(p *v1.Pod) error {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			if c.Status == v1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("pod %s not ready: %s", p.Name, c.Reason)
		}
	}
	return fmt.Errorf("pod %s has no Ready condition", p.Name)
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
