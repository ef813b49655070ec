package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/minilet/minilet/internal/testdaemon"
	"github.com/minilet/minilet/pkg/podsandbox"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// outsideConfig points the bench at a minilet it did not start (-outside):
// one installed as a user installs it, with the host's containerd. The
// bench then only writes and removes files in the manifest directory and
// watches containerd (its event stream, its container list, the netns
// files): what a user sees, with nothing of the bench's own harness in
// between. The floors run beside it in namespaces of their own.
type outsideConfig struct {
	containerd string // containerd's socket
	root       string // containerd's root (for the settle wait)
	manifests  string
	namespace  string // minilet's containerd namespace
	netnsDir   string // minilet's netns directory
	log        string // minilet's log, if JSON: for the phases of a burst
	metrics    string // minilet's metrics address, if it serves /debug/pprof: for -profile
}

func defaultOutside() outsideConfig {
	return outsideConfig{containerd: "/run/containerd/containerd.sock", root: "/var/lib/containerd",
		manifests: "/etc/minilet", namespace: "minilet", netnsDir: "/run/minilet/netns"}
}

// figure groups -outside can run: those that need only files and
// containerd.
var outsideSets = map[string]bool{"pod1": true, "pod3": true, "many": true, "burst": true}

// attachDaemon finds the running `minilet daemon` process and wraps it.
func attachDaemon(c outsideConfig) (*daemon, error) {
	pid := findDaemon()
	if pid == 0 {
		return nil, errors.New("-outside: no `minilet daemon` process runs (make quickstart starts one)")
	}
	ents, err := os.ReadDir(c.manifests)
	if err != nil {
		return nil, fmt.Errorf("-outside: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") && strings.HasPrefix(e.Name(), "bench-") {
			return nil, fmt.Errorf("-outside: %s holds %s from an earlier bench; remove it first", c.manifests, e.Name())
		}
	}
	d := &daemon{Daemon: &testdaemon.Daemon{Config: testdaemon.Config{Namespace: c.namespace}, Manifests: c.manifests, MetricsAddr: c.metrics},
		outsidePID: pid, netnsDir: c.netnsDir, logPath: c.log}
	d.rt, err = rtcontainerd.New(rtcontainerd.Options{Address: c.containerd, Namespace: c.namespace}, zap.NewNop())
	return d, err
}

// findDaemon is the PID of a process whose command line is
// `... minilet daemon ...`, or 0.
func findDaemon() int {
	for _, pid := range pids() {
		if args := cmdlineOf(pid); len(args) >= 2 && filepath.Base(args[0]) == "minilet" && args[1] == "daemon" {
			return pid
		}
	}
	return 0
}

// PID is the daemon's process ID.
func (d *daemon) PID() int {
	if d.outsidePID != 0 {
		return d.outsidePID
	}
	return d.Daemon.PID()
}

// Running reports whether the daemon process runs.
func (d *daemon) Running() bool {
	if d.outsidePID != 0 {
		return syscall.Kill(d.outsidePID, 0) == nil
	}
	return d.Daemon.Running()
}

// outside reports whether the bench watches a daemon it did not start.
func (d *daemon) outside() bool { return d.outsidePID != 0 }

// waitGone waits until containerd holds none of the pods' containers
// and, for the bench's own daemon, the API lists none of its pods. With
// -outside it waits for every container made from a manifest file of the
// bench's (the file label), whatever its pod.
func (d *daemon) waitGone(ctx context.Context, timeout time.Duration) error {
	if !d.outside() {
		return d.waitNoPods(ctx, timeout)
	}
	deadline := time.Now().Add(timeout)
	for {
		cs, err := d.rt.ListContainers(ctx, nil)
		if err != nil {
			return err
		}
		left := 0
		for _, c := range cs {
			if strings.HasPrefix(filepath.Base(c.Labels[podsandbox.LabelManifest]), benchFilePrefix) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d containers of the bench's pods left after %v", left, timeout)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// firstContainerd is the PID of a containerd process (the host's), or 0.
func firstContainerd() int {
	for _, pid := range pids() {
		if filepath.Base(exeOf(pid)) == "containerd" {
			return pid
		}
	}
	return 0
}
