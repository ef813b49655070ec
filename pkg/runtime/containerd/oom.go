package containerd

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd"
)

// oomKilled tells whether the kernel's OOM killer ended the container: its
// cgroup (still there while the exited task is not deleted) counts an
// oom_kill. It reads cgroup v1's memory.oom_control and v2's memory.events.
func (r *Runtime) oomKilled(ctx context.Context, c containerd.Container) bool {
	spec, err := c.Spec(ctx)
	if err != nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
		return false
	}
	path := filepath.Clean("/" + spec.Linux.CgroupsPath)
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup/memory", path, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", path, "memory.events"),
		filepath.Join("/sys/fs/cgroup/unified", path, "memory.events"),
	} {
		if oomKills(f) > 0 {
			return true
		}
	}
	return false
}

// oomKills reads the "oom_kill N" line of a cgroup memory file.
func oomKills(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return 1
		}
	}
	return 0
}
