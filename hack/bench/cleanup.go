package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/network"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// cleanup removes everything the bench made, whatever state a failure or a
// signal left it in: pods (through the daemon first, as an operator
// would), then any container left in the bench's namespaces, mounts,
// cgroups, bridges, iptables rules, CNI cache entries; then it stops the
// daemon and containerd and removes the work directory.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if b.d != nil && b.d.Running() {
		b.removeBenchManifests()
		if err := b.d.waitGone(ctx, 60*time.Second); err != nil {
			b.logf("cleanup: %v", err)
		}
		if !b.d.outside() {
			if err := b.d.stop(); err != nil {
				b.logf("cleanup: %v", err)
			}
		}
	}
	if b.f != nil {
		if err := b.f.removeAll(ctx); err != nil {
			b.logf("cleanup: %v", err)
		}
	}
	for _, l := range []*leanFloor{b.lean, b.choices} {
		if l == nil || l.client == nil {
			continue
		}
		if err := l.removeAll(ctx); err != nil {
			b.logf("cleanup: %v", err)
		}
		if rt, err := rtcontainerd.New(rtcontainerd.Options{Address: b.containerdAddr, Namespace: l.namespace}, zap.NewNop()); err == nil {
			sweepContainers(ctx, rt, b)
			rt.Close()
		}
		l.close()
	}
	b.clock.close()
	b.settler.close()
	if b.d != nil && b.d.rt != nil {
		if !b.d.outside() { // never the host's own minilet's pods
			sweepContainers(ctx, b.d.rt, b)
		}
		b.d.rt.Close()
	}
	if b.d != nil && b.d.logFile != nil {
		_ = b.d.logFile.Close()
	}
	if b.f != nil {
		if b.f.rt != nil {
			sweepContainers(ctx, b.f.rt, b)
		}
		b.f.close()
	}
	for _, m := range mountsUnder(b.dir) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	sweepHost(b.namespaces(), b)
	b.containerd.stop()
	killShimsOf(b)
	for _, m := range mountsUnder(b.dir) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if b.dir != "" {
		if b.keep {
			b.logf("kept %s", b.dir)
		} else if err := os.RemoveAll(b.dir); err != nil {
			b.logf("cleanup: %v", err)
		}
	}
}

// sweepContainers kills and removes every container of rt's namespace.
func sweepContainers(ctx context.Context, rt *rtcontainerd.Runtime, b *bench) {
	cs, err := rt.ListContainers(ctx, nil)
	if err != nil {
		b.logf("cleanup: list containers: %v", err)
		return
	}
	for _, c := range cs {
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			b.logf("cleanup: %v", err)
		}
	}
}

// sweepHost removes what the bench's networks and namespaces leave on the
// host outside its directory: bridges, iptables rules commented with the
// networks' names (and the per-pod chains they jump to), libcni's cached
// results, and the pod cgroups under /minilet/<namespace>.
func sweepHost(namespaces []string, b *bench) {
	for _, br := range []string{daemonBridge, floorBridge, leanNetPlain.bridge, leanNetChoices.bridge} {
		if _, err := os.Stat("/sys/class/net/" + br); err == nil {
			if out, err := exec.Command("ip", "link", "del", br).CombinedOutput(); err != nil {
				b.logf("cleanup: ip link del %s: %v %s", br, err, out)
			}
		}
	}
	for _, n := range []string{daemonNetwork, floorNetwork, leanNetPlain.name, leanNetChoices.name} {
		removeRulesOf(n)
		files, _ := filepath.Glob("/var/lib/cni/results/" + n + "-*")
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
	for _, ns := range namespaces {
		var dirs []string
		for _, pattern := range []string{"/sys/fs/cgroup/*/minilet/" + ns, "/sys/fs/cgroup/minilet/" + ns, "/sys/fs/cgroup/*/" + ns, "/sys/fs/cgroup/" + ns} {
			tops, _ := filepath.Glob(pattern)
			for _, top := range tops {
				_ = filepath.WalkDir(top, func(p string, e os.DirEntry, err error) error {
					if err == nil && e.IsDir() {
						dirs = append(dirs, p)
					}
					return nil
				})
			}
		}
		// Deepest first: a cgroup goes only once its children are gone.
		sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
		for _, d := range dirs {
			_ = syscall.Rmdir(d)
		}
	}
}

// leftovers says what a previous bench left on the host, if anything.
func leftovers() []string {
	var out []string
	for _, br := range []string{daemonBridge, floorBridge, leanNetPlain.bridge, leanNetChoices.bridge} {
		if _, err := os.Stat("/sys/class/net/" + br); err == nil {
			out = append(out, "bridge "+br)
		}
	}
	for _, n := range []string{daemonNetwork, floorNetwork, leanNetPlain.name, leanNetChoices.name} {
		if r := iptablesRulesOf(n); len(r) > 0 {
			out = append(out, "iptables rules of "+n)
		}
	}
	return out
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

// removeRulesOf deletes a network's rules, then the per-pod CNI chains
// they lived in or jumped to.
func removeRulesOf(networkName string) {
	_ = network.SweepNetworkRules(context.Background(), networkName, zap.NewNop())
}

// mountsUnder lists the mount points below dir, deepest (latest) first.
func mountsUnder(dir string) []string {
	if dir == "" {
		return nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// killShimsOf kills shims still running for the bench's own containerd
// after it stopped: a run interrupted while tasks were being made can
// leave a shim whose containers are gone. The host's shims are never
// touched: only those whose command line names the bench's directory.
func killShimsOf(b *bench) {
	if b.dir == "" || b.containerd == nil {
		return
	}
	for _, pid := range pids() {
		cmd := strings.Join(cmdlineOf(pid), " ")
		if !strings.Contains(cmd, "containerd-shim") || !strings.Contains(cmd, b.dir+"/") {
			continue
		}
		b.logf("cleanup: killing shim %d left by the bench's containerd", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
