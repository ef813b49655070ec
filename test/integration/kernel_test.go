package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// nsInode is the inode of a process's namespace of the given kind, as the
// kernel shows it: "net:[4026532...]".
func nsInode(t *testing.T, pid uint32, kind string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatalf("read namespace %s of pid %d: %v", kind, pid, err)
	}
	return link
}

// mountsUnder lists mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	var out []string
	for _, m := range mountPoints() {
		if strings.HasPrefix(m, dir+"/") {
			out = append(out, m)
		}
	}
	slices.Reverse(out)
	return out
}

// runtimeFor connects to the test containerd in the daemon's namespace.
func (d *daemon) runtime() *rtcontainerd.Runtime {
	d.t.Helper()
	rt, err := rtcontainerd.New(rtcontainerd.Options{Address: env.containerd.address, Namespace: d.Namespace}, zap.NewNop())
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { rt.Close() })
	return rt
}

// pids returns the task PIDs of the pod's pause and of each container.
func (d *daemon) pids(p *v1.Pod) (pause uint32, byName map[string]uint32) {
	d.t.Helper()
	rt := d.runtime()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodUID: string(p.UID)})
	if err != nil {
		d.t.Fatal(err)
	}
	byName = map[string]uint32{}
	for _, c := range cs {
		if c.State != "running" {
			continue
		}
		if c.Labels[podsandbox.LabelContainerType] == podsandbox.TypeSandbox {
			pause = c.PID
			continue
		}
		byName[c.Labels[podsandbox.LabelContainerName]] = c.PID
	}
	if pause == 0 {
		d.t.Fatalf("pod %s has no running pause container", p.Name)
	}
	return pause, byName
}

// cgroupFile reads a cgroup v1 controller file of a process, falling back
// to the unified hierarchy's file name.
func cgroupFile(t *testing.T, pid uint32, controller, v1File, v2File string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, parts[2], v1File))
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimSpace(string(b))
			}
		}
		if parts[1] == "" && parts[0] == "0" {
			if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", parts[2], v2File)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
	}
	t.Fatalf("no %s cgroup for pid %d:\n%s", controller, pid, data)
	return ""
}
