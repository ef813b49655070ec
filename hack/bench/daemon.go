package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/testdaemon"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// Network of the daemon's pods (the floor has its own, see floor.go).
const (
	daemonNetwork = "minilet-bench"
	daemonBridge  = "mlbench0"
	daemonSubnet  = "10.232.0.0/17"
)

// daemon is the minilet process under test (internal/testdaemon), with
// its log file and a runtime handle on its namespace.
type daemon struct {
	*testdaemon.Daemon
	logPath string
	logFile *os.File
	// rt reads the daemon's containers (labels, PIDs) in its namespace;
	// the bench never changes them through it, except in cleanup.
	rt *rtcontainerd.Runtime
	// outsidePID is the PID of a daemon the bench did not start
	// (-outside); netnsDir its netns directory.
	outsidePID int
	netnsDir   string
}

func newDaemon(bin, pauseBin, dir, containerdAddr, namespace, logLevel string) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &daemon{logPath: filepath.Join(dir, "minilet.log")}
	f, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	d.logFile = f
	d.Daemon, err = testdaemon.New(testdaemon.Config{
		Bin: bin, PauseBin: pauseBin, Dir: dir, ContainerdAddress: containerdAddr, Namespace: namespace,
		Network: daemonNetwork, Bridge: daemonBridge, Subnet: daemonSubnet, NodeName: "bench",
		Args:   []string{"--crash-loop-backoff-max", "10s", "--log-level", logLevel, "--log-format", "json"},
		Output: f,
	})
	if err != nil {
		return nil, err
	}
	d.netnsDir = filepath.Join(d.RunDir, "netns")
	d.rt, err = rtcontainerd.New(rtcontainerd.Options{Address: containerdAddr, Namespace: namespace}, zap.NewNop())
	return d, err
}

// start runs the daemon and returns once its API answers.
func (d *daemon) start(ctx context.Context) error {
	if err := d.Start(ctx, 60*time.Second); err != nil {
		return fmt.Errorf("%w; see %s", err, d.logPath)
	}
	return nil
}

// stop sends SIGTERM and waits for the daemon to exit (SIGKILL after 30s).
// Pods keep running.
func (d *daemon) stop() error { return d.Signal(syscall.SIGTERM, 30*time.Second) }

// pod fetches one pod of namespace default.
func (d *daemon) pod(ctx context.Context, name string) (*v1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.Client.GetPod(cctx, "default", name)
}

func (d *daemon) pods(ctx context.Context) ([]v1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := d.Client.ListPods(cctx, "")
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
		if !d.Running() {
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
		if !d.Running() {
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
