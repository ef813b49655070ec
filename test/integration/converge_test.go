package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// convergeTimeout is how long a restarted minilet has to converge.
const convergeTimeout = 30 * time.Second

// convergeParams reads the master seed (MINILET_CONVERGE_SEED, else the
// time) and the number of iterations (nVar, else def).
func convergeParams(t *testing.T, nVar string, def int) (seed uint64, n int) {
	t.Helper()
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("MINILET_CONVERGE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MINILET_CONVERGE_SEED=%q: %v", s, err)
		}
		seed = v
	}
	n = def
	if s := os.Getenv(nVar); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("%s=%q: want a positive number", nVar, s)
		}
		n = v
	}
	return seed, n
}

// TestConvergeRandomKills: the desired set changes at random (1–10 pods of
// a pool added or removed at once) and minilet is SIGKILLed at a random
// moment while it acts on the change, in one iteration out of three
// containerd too. Within 30 s of minilet's restart every desired pod runs
// exactly one sandbox and one container of each, in shared namespaces,
// answering on its IP and hostPort; pods that were Running before the kill
// run the same processes; and nothing of the removed pods, nor anything
// else, is left: containers, tasks, snapshots, mounts, netns files, CNI
// allocations, iptables rules and chains, cgroups, processes, shims, log
// drivers, state, run and log dirs.
//
// MINILET_CONVERGE_N sets the number of iterations (30), and
// MINILET_CONVERGE_SEED the seed; a failing iteration names both.
func TestConvergeRandomKills(t *testing.T) {
	seed, n := convergeParams(t, "MINILET_CONVERGE_N", 30)
	var pool []*poolPod
	d := convergeDaemon(t, &pool)
	pool = convergePool(d, freeHostPort(t))
	byName := map[string]*poolPod{}
	for _, p := range pool {
		byName[p.name] = p
	}
	desired := map[string]bool{}
	t.Logf("seed %d, %d iterations (MINILET_CONVERGE_SEED=%d MINILET_CONVERGE_N=%d)", seed, n, seed, n)

	for i := 1; i <= n; i++ {
		// Each iteration draws from its own stream, so its choices depend
		// only on the seed, its number and the desired set it starts from.
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		replay := fmt.Sprintf("replay with MINILET_CONVERGE_SEED=%d MINILET_CONVERGE_N=%d", seed, i)
		var added, removed []string
		for _, j := range rng.Perm(len(pool))[:1+rng.IntN(len(pool))] {
			if p := pool[j]; desired[p.name] {
				removed = append(removed, p.name)
			} else {
				added = append(added, p.name)
			}
		}
		delay := time.Duration(rng.Int64N(int64(1500*time.Millisecond) + 1))
		killContainerd := rng.IntN(3) == 0
		containerdFirst := rng.IntN(2) == 0
		gap := time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
		how := "minilet"
		if killContainerd && containerdFirst {
			how = fmt.Sprintf("containerd, then minilet %v later", gap.Round(time.Millisecond))
		} else if killContainerd {
			how = "minilet, then containerd"
		}
		t.Logf("iteration %d/%d: add %v, remove %v; SIGKILL %s after %v (%s)", i, n, added, removed, how, delay.Round(time.Millisecond), replay)

		d.output.reset()
		start := time.Now()
		for _, name := range added {
			d.writeManifest(byName[name].file(), byName[name].manifest)
			desired[name] = true
		}
		for _, name := range removed {
			d.removeManifest(byName[name].file())
			delete(desired, name)
		}
		time.Sleep(delay) // the random moment of the crash, not a synchronisation
		before := d.recordRunning(pool, desired)
		if killContainerd && containerdFirst {
			env.containerd.Kill()
			time.Sleep(gap) // minilet alone without containerd for a random while
			d.killDaemon()
		} else {
			d.killDaemon()
			if killContainerd {
				env.containerd.Kill()
			}
		}
		if killContainerd {
			if err := env.containerd.Restart(); err != nil {
				t.Fatalf("iteration %d: restart containerd: %v\n%s", i, err, replay)
			}
		}
		deadline := time.Now().Add(convergeTimeout)
		d.start()
		if err := d.waitConverged(pool, desired, before, deadline); err != nil {
			t.Fatalf("iteration %d: not converged within %v of restarting minilet (added %v, removed %v, SIGKILL %s after %v; %d pods were Running before the kill):\n  %v\n%s\nminilet output (tail):\n%s\n%s",
				i, convergeTimeout, added, removed, how, delay.Round(time.Millisecond), len(before), err, replay, d.tail(60), replay)
		}
		t.Logf("iteration %d: converged %v after the change (%d pods desired, %d kept running through the kill)",
			i, time.Since(start).Round(time.Millisecond), len(desired), len(before))
	}

	for name := range desired {
		d.removeManifest(name + ".yaml")
	}
	if err := d.waitConverged(pool, nil, nil, time.Now().Add(convergeTimeout)); err != nil {
		t.Fatalf("after removing every manifest: %v\nminilet output (tail):\n%s", err, d.tail(60))
	}
	d.assertClean()
}

// TestConvergeKilledWhileRemoving: ten pods run, all ten manifests are
// removed, minilet is SIGKILLed at a random moment of the teardown and
// started again: within 30 s nothing of any of them is left.
// MINILET_CONVERGE_REMOVE_N sets the number of iterations (3),
// MINILET_CONVERGE_SEED the seed.
func TestConvergeKilledWhileRemoving(t *testing.T) {
	seed, n := convergeParams(t, "MINILET_CONVERGE_REMOVE_N", 3)
	var pool []*poolPod
	d := convergeDaemon(t, &pool)
	pool = convergePool(d, freeHostPort(t))
	all := map[string]bool{}
	for _, p := range pool {
		all[p.name] = true
	}
	t.Logf("seed %d, %d iterations (MINILET_CONVERGE_SEED=%d MINILET_CONVERGE_REMOVE_N=%d)", seed, n, seed, n)
	for i := 1; i <= n; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		replay := fmt.Sprintf("replay with MINILET_CONVERGE_SEED=%d MINILET_CONVERGE_REMOVE_N=%d", seed, i)
		delay := time.Duration(rng.Int64N(int64(1500*time.Millisecond) + 1))
		t.Logf("iteration %d/%d: start %d pods, remove them all, SIGKILL minilet after %v (%s)", i, n, len(pool), delay.Round(time.Millisecond), replay)

		d.output.reset()
		for _, p := range pool {
			d.writeManifest(p.file(), p.manifest)
		}
		if err := d.waitConverged(pool, all, nil, time.Now().Add(2*convergeTimeout)); err != nil {
			t.Fatalf("iteration %d: the pods do not run (before any kill):\n  %v\nminilet output (tail):\n%s\n%s", i, err, d.tail(60), replay)
		}
		for _, p := range pool {
			d.removeManifest(p.file())
		}
		time.Sleep(delay) // the random moment of the crash, not a synchronisation
		d.killDaemon()
		deadline := time.Now().Add(convergeTimeout)
		d.start()
		if err := d.waitConverged(pool, nil, nil, deadline); err != nil {
			t.Fatalf("iteration %d: pods removed, minilet SIGKILLed %v later and restarted: not clean within %v:\n  %v\n%s\nminilet output (tail):\n%s\n%s",
				i, delay.Round(time.Millisecond), convergeTimeout, err, replay, d.tail(60), replay)
		}
	}
	d.assertClean()
}

// TestConvergeAfterReboot: pods with an init container, a disk emptyDir
// and a Memory emptyDir run; the host "reboots": every container, shim,
// log driver and containerd die, containerd's state dir and minilet's run
// dir are wiped, mounts, cgroups, iptables rules, bridge and veths are
// gone; root dirs, logs and manifests stay. Within 30 s of containerd and
// minilet starting again, every pod runs again in a new sandbox, converged
// as in TestConvergeRandomKills; init containers ran again; the disk
// emptyDir kept its data (same pod UID), the Memory one is a fresh tmpfs;
// the restart counts and a SandboxChanged event say what happened.
func TestConvergeAfterReboot(t *testing.T) {
	var pods []*poolPod
	d := convergeDaemon(t, &pods)
	pods = []*poolPod{
		{name: "rb-init", answers: "http", manifest: fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rb-init}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: init
    image: %[1]s
    command: ["sh", "-c", "echo ran >> /work/init-runs"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: %[1]s
    command: %[2]s
    volumeMounts: [{name: work, mountPath: /work}]
`, BusyboxImage, httpdCommand)},
		{name: "rb-disk", answers: "http", manifest: fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rb-disk}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "[ -f /data/x ] || cat /proc/sys/kernel/random/uuid > /data/x; exec httpd -f -p 8080 -h /etc"]
    volumeMounts: [{name: data, mountPath: /data}]
`, BusyboxImage)},
		{name: "rb-mem", answers: "ping", memVolume: "/mem", manifest: sleeperPod("rb-mem",
			"    volumeMounts: [{name: mem, mountPath: /mem}]\n  volumes: [{name: mem, emptyDir: {medium: Memory}}]\n")},
	}
	d.identify(pods)
	all := map[string]bool{}
	for _, p := range pods {
		all[p.name] = true
		d.writeManifest(p.file(), p.manifest)
	}
	if err := d.waitConverged(pods, all, nil, time.Now().Add(2*convergeTimeout)); err != nil {
		t.Fatalf("before the reboot, the pods do not run:\n  %v\nminilet output (tail):\n%s", err, d.tail(60))
	}
	// What the pods ran and held before.
	pause := map[string]uint32{}
	app := map[string]uint32{}
	for _, p := range pods {
		pod, err := d.pod("default", p.name)
		if err != nil {
			t.Fatal(err)
		}
		pauseP, pids := d.pids(pod)
		pause[p.name], app[p.name] = pauseP, pids[pod.Spec.Containers[0].Name]
	}
	initRuns := fmt.Sprintf("/proc/%d/root/work/init-runs", app["rb-init"])
	if b, err := os.ReadFile(initRuns); err != nil || string(b) != "ran\n" {
		t.Fatalf("before the reboot, the init container's runs: %q %v; want one line", b, err)
	}
	var data []byte
	d.eventually(10*time.Second, "rb-disk wrote its data file", func() error {
		var err error
		data, err = os.ReadFile(fmt.Sprintf("/proc/%d/root/data/x", app["rb-disk"]))
		if err == nil && len(data) < 32 {
			err = fmt.Errorf("data %q", data)
		}
		return err
	})
	memMarker := fmt.Sprintf("/proc/%d/root/mem/before-reboot", app["rb-mem"])
	if err := os.WriteFile(memMarker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	d.output.reset()
	d.reboot()
	if err := env.containerd.Restart(); err != nil {
		t.Fatalf("start containerd after the reboot: %v", err)
	}
	deadline := time.Now().Add(convergeTimeout)
	d.start()
	if err := d.waitConverged(pods, all, nil, deadline); err != nil {
		t.Fatalf("after a reboot, the pods did not converge within %v of minilet's start:\n  %v\nminilet output (tail):\n%s", convergeTimeout, err, d.tail(60))
	}

	for _, p := range pods {
		pod, err := d.pod("default", p.name)
		if err != nil {
			t.Fatal(err)
		}
		pauseP, pids := d.pids(pod)
		app[p.name] = pids[pod.Spec.Containers[0].Name]
		if pauseP == pause[p.name] {
			t.Errorf("pod %s: pause pid %d before and after the reboot: not a new sandbox", p.name, pauseP)
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.RestartCount < 1 {
				t.Errorf("pod %s: container %s has restartCount %d after its sandbox was recreated, want >= 1 (a new attempt, as the kubelet counts it)", p.name, cs.Name, cs.RestartCount)
			}
		}
		if e := findEvent(d.events(p.name), "SandboxChanged", ""); e == nil {
			t.Errorf("pod %s: no SandboxChanged event after the reboot; events:%s", p.name, eventSummary(d.events(p.name)))
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/work/init-runs", app["rb-init"])); err != nil || string(b) != "ran\nran\n" {
		t.Errorf("the init container's runs after the reboot: %q %v; want two lines (it runs again in the new sandbox)", b, err)
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/data/x", app["rb-disk"])); err != nil || string(b) != string(data) {
		t.Errorf("the disk emptyDir's data after the reboot: %q %v; want %q, kept for the same pod UID", b, err, data)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/mem/before-reboot", app["rb-mem"])); !os.IsNotExist(err) {
		t.Errorf("the Memory emptyDir kept a file across the reboot (%v): it must be a fresh tmpfs", err)
	}

	for _, p := range pods {
		d.removeManifest(p.file())
	}
	if err := d.waitConverged(pods, nil, nil, time.Now().Add(convergeTimeout)); err != nil {
		t.Fatalf("after removing the manifests: %v\nminilet output (tail):\n%s", err, d.tail(60))
	}
	d.assertClean()
}

// reboot does to the daemon and the test containerd what a host reboot
// does: minilet, every process the containerd's shims run (containers,
// log drivers) and the shims die with SIGKILL, then containerd; what lives
// in memory or on /run is lost: mounts (netns files, shm, Memory emptyDirs,
// containers' rootfs), containerd's state dir, runc's state and the shims'
// sockets under /run/containerd, minilet's run dir, cgroups, iptables
// rules, the bridge and veths. Root dirs, logs and manifests stay.
func (d *daemon) reboot() {
	d.t.Helper()
	d.killDaemon()

	all := processes()
	children := map[int][]int{}
	for _, p := range all {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	var shims, victims []int
	namespaces := map[string]bool{d.Namespace: true}
	for _, p := range all {
		if len(p.args) > 0 && strings.Contains(p.args[0], "containerd-shim") && argAfter(p.args, "-address") == env.containerd.address {
			shims = append(shims, p.pid)
			ns := argAfter(p.args, "-namespace")
			namespaces[ns] = true
			if ns != d.Namespace {
				d.t.Logf("reboot: a shim of namespace %s (not this daemon's) dies too: %v", ns, p.args)
			}
		}
	}
	for queue := append([]int{}, shims...); len(queue) > 0; queue = queue[1:] {
		victims = append(victims, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	marker := "/minilet/" + d.Namespace + "/"
	for _, p := range all {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.pid)); err == nil && strings.Contains(string(b), marker) && !slices.Contains(victims, p.pid) {
			victims = append(victims, p.pid)
		}
	}
	sockets := unixSocketsOf(shims)
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	env.containerd.Kill()
	d.eventually(10*time.Second, "every container, log driver and shim is dead", func() error {
		for _, pid := range victims {
			if processAlive(uint32(pid)) {
				return fmt.Errorf("pid %d lives", pid)
			}
		}
		return nil
	})
	d.t.Logf("reboot: killed %d shims and %d processes under them; containerd killed", len(shims), len(victims)-len(shims))

	// Mounts go first, then what was on tmpfs.
	state := env.containerd.StateDir()
	for _, m := range append(mountsUnder(state), mountsUnder(d.Dir)...) {
		// EINVAL: a mount listed twice (stacked) went with the first unmount.
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL && err != syscall.ENOENT {
			d.t.Fatalf("reboot: unmount %s: %v", m, err)
		}
	}
	if left := append(mountsUnder(state), mountsUnder(d.Dir)...); len(left) > 0 {
		d.t.Fatalf("reboot: mounts left: %v", left)
	}
	for _, dir := range []string{state, d.RunDir} {
		for _, e := range readDirNames(dir) {
			if err := os.RemoveAll(filepath.Join(dir, e)); err != nil {
				d.t.Fatalf("reboot: wipe %s: %v", dir, err)
			}
		}
	}
	for ns := range namespaces {
		_ = os.RemoveAll(filepath.Join("/run/containerd/runc", ns))
	}
	for _, s := range sockets {
		if strings.HasPrefix(s, "/run/containerd/s/") {
			_ = os.Remove(s)
		}
	}

	// Cgroups: the containers' below the pods', the daemon's namespace last.
	cgRoot := "/sys/fs/cgroup/*/minilet/" + d.Namespace
	d.eventually(10*time.Second, "the pods' cgroups are removed", func() error {
		var left []string
		for _, pattern := range []string{cgRoot + "/pod*/*", cgRoot + "/pod*", cgRoot} {
			dirs, _ := filepath.Glob(pattern)
			sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
			for _, dir := range dirs {
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					continue
				}
				if err := syscall.Rmdir(dir); err != nil {
					left = append(left, fmt.Sprintf("%s: %v", dir, err))
				}
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("%s", strings.Join(left, "; "))
		}
		return nil
	})

	// The network: iptables rules are not saved, links are gone.
	removeRulesOf(d.Network)
	if out, err := runCmd("ip", "-o", "link", "show", "master", d.Bridge); err == nil {
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 1 {
				name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
				_, _ = runCmd("ip", "link", "del", name)
			}
		}
	}
	if _, err := runCmd("ip", "link", "del", d.Bridge); err != nil {
		d.t.Logf("reboot: delete bridge %s: %v", d.Bridge, err)
	}
}
