package integration

// Helpers of the convergence tests (converge_test.go): a pool of pod
// manifests, and the checks built on the host's view of the pods
// (converge_observe_test.go): "pod X converged", "nothing of pod X is
// left", "nothing beyond the desired pods"; killing minilet, and the
// cleanups a test that kills things needs.

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	podmanifest "github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podsandbox"
)

// poolPod is one manifest the convergence tests add and remove, with what
// the checks need to know of it.
type poolPod struct {
	name     string // pod name; the file is <name>.yaml
	manifest string
	uid      types.UID // computed from the manifest as minilet computes it
	podID    string    // prefix of its container IDs
	chainKey string    // hex sha512(network + pod ID): CNI's per-pod iptables chain names

	hostNetwork bool
	hostPort    int    // 0: none
	answers     string // how its IP answers: "http" (GET /hostname on 8080 gives the pod name) or "ping"
	memVolume   string // mount path of its Memory emptyDir in its containers, "" if none
	readyFile   string // a file its init container wrote, read in its first app container; must hold "ok"
}

func (p *poolPod) file() string { return p.name + ".yaml" }

// httpd serves the container's /etc: GET /hostname answers the pod's
// name, which tells the pod apart from any other behind the same address.
const httpdCommand = `["httpd", "-f", "-p", "8080", "-h", "/etc"]`

// convergePool is the pool of the randomized crash test: plain sleepers,
// web servers (one with a second container), pods with an init container,
// one hostNetwork pod, one with a hostPort, one with a Memory emptyDir.
func convergePool(d *daemon, hostPort int) []*poolPod {
	d.t.Helper()
	web := func(name, extra string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    command: %s
%s`, name, BusyboxImage, httpdCommand, extra)
	}
	pool := []*poolPod{
		{name: "cv-sleep-0", manifest: sleeperPod("cv-sleep-0", ""), answers: "ping"},
		{name: "cv-sleep-1", manifest: sleeperPod("cv-sleep-1", ""), answers: "ping"},
		{name: "cv-sleep-2", manifest: sleeperPod("cv-sleep-2", ""), answers: "ping"},
		{name: "cv-web-0", manifest: web("cv-web-0", ""), answers: "http"},
		{name: "cv-web-1", answers: "http", manifest: web("cv-web-1", fmt.Sprintf(`  - name: side
    image: %s
    command: ["sleep", "3600"]
`, BusyboxImage))},
		{name: "cv-init-true", answers: "http", manifest: fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: cv-init-true}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: %[1]s
    command: ["true"]
  containers:
  - name: web
    image: %[1]s
    command: %[2]s
`, BusyboxImage, httpdCommand)},
		{name: "cv-init-file", answers: "http", readyFile: "/work/ready", manifest: fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: cv-init-file}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: init
    image: %[1]s
    command: ["sh", "-c", "echo ok > /work/ready"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: %[1]s
    command: ["sh", "-c", "test -f /work/ready || exit 1; exec httpd -f -p 8080 -h /etc"]
    volumeMounts: [{name: work, mountPath: /work}]
`, BusyboxImage)},
		{name: "cv-hostnet", hostNetwork: true, manifest: sleeperPod("cv-hostnet", "  hostNetwork: true\n")},
		{name: "cv-hostport", answers: "http", hostPort: hostPort,
			manifest: web("cv-hostport", fmt.Sprintf("    ports: [{containerPort: 8080, hostPort: %d}]\n", hostPort))},
		{name: "cv-memvol", answers: "http", memVolume: "/mem", manifest: fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: cv-memvol}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: mem, emptyDir: {medium: Memory}}]
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "echo hi > /mem/x && exec httpd -f -p 8080 -h /etc"]
    volumeMounts: [{name: mem, mountPath: /mem}]
`, BusyboxImage)},
	}
	d.identify(pool)
	return pool
}

// identify computes each pool pod's UID as minilet does (from the file's
// path and content), and the IDs derived from it.
func (d *daemon) identify(pool []*poolPod) {
	d.t.Helper()
	for _, p := range pool {
		path := filepath.Join(d.Manifests, p.file())
		pods, err := podmanifest.Decode(path, []byte(p.manifest), podmanifest.Options{NodeName: "testnode"})
		if err != nil || len(pods) != 1 {
			d.t.Fatalf("pool manifest %s: %d pods, %v", p.name, len(pods), err)
		}
		p.uid = pods[0].Pod.UID
		p.podID = podsandbox.PodID(p.uid)
		sum := sha512.Sum512([]byte(d.Network + p.podID))
		p.chainKey = hex.EncodeToString(sum[:])
	}
}

// freeHostPort finds a TCP port free on the host for a hostPort.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// leftoversOf lists what is left of a pod that should be gone entirely.
func (v *hostView) leftoversOf(p *poolPod) []string {
	var out []string
	for _, it := range v.ownedBy(p.podID, "") {
		out = append(out, fmt.Sprintf("pod %s (removed, ID %s): %s left: %s", p.name, p.podID, it.kind, it.detail))
	}
	return out
}

// beyondDesired lists everything that belongs to no desired pod: what is
// left of removed pods (per pod, with its name) and of pods nobody knows.
func (v *hostView) beyondDesired(pool []*poolPod, desired map[string]bool) []string {
	var out []string
	known := map[string]bool{}
	for _, p := range pool {
		known[p.podID] = true
		if !desired[p.name] {
			out = append(out, v.leftoversOf(p)...)
		}
	}
	for _, it := range v.items {
		if !known[it.owner] {
			out = append(out, fmt.Sprintf("%s of no desired pod (owner %q) left: %s", it.kind, it.owner, it.detail))
		}
	}
	return out
}

// converged lists what keeps a desired pod p (the API's view of pool pod
// pp) from being converged: the API, containerd and the kernel must agree
// that it runs exactly one sandbox and one container of each, in shared
// namespaces, with exactly one of everything else it owns.
func (v *hostView) converged(d *daemon, pp *poolPod, p *v1.Pod) []string {
	var probs []string
	bad := func(format string, args ...any) {
		probs = append(probs, fmt.Sprintf("pod %s (ID %s): ", pp.name, pp.podID)+fmt.Sprintf(format, args...))
	}
	if p.UID != pp.uid {
		bad("UID %s, want %s (computed from its manifest)", p.UID, pp.uid)
		return probs
	}
	if err := allRunning(p); err != nil {
		bad("not running: %v", err)
	}
	if len(p.Status.ContainerStatuses) != len(p.Spec.Containers) {
		bad("%d container statuses for %d containers", len(p.Status.ContainerStatuses), len(p.Spec.Containers))
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			bad("init container %s has not completed: %+v", cs.Name, cs.State)
		}
	}

	// containerd: one running sandbox, one running container per app
	// container, the one the status names; older attempts only after a
	// restart, and none running; no task half made.
	sandboxes := sandboxesOf(pp.podID, v.containers)
	if len(sandboxes) != 1 {
		bad("sandbox containers %v, want exactly one", sandboxes)
	}
	sandbox := ""
	if len(sandboxes) > 0 {
		sandbox = sandboxes[0]
	}
	sbTask, ok := v.tasks[sandbox]
	if !v.containers[sandbox] || !ok || sbTask.status != "RUNNING" {
		bad("sandbox %s: container %v, task %+v; want a RUNNING task", sandbox, v.containers[sandbox], sbTask)
	}
	specs := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		specs[c.Name] = true
	}
	for _, c := range p.Spec.Containers {
		specs[c.Name] = true
	}
	attempts := map[string][]int{} // container name → attempts present
	for id := range v.containers {
		if podOfContainer(id) != pp.podID || isSandboxID(pp.podID, id) {
			continue
		}
		rest := strings.TrimPrefix(id, pp.podID+"-")
		i := strings.LastIndex(rest, "-")
		n, err := strconv.Atoi(rest[i+1:])
		if i < 0 || err != nil || !specs[rest[:i]] {
			bad("container %s is none of the pod's: want %s-<container>-<attempt>", id, pp.podID)
			continue
		}
		attempts[rest[:i]] = append(attempts[rest[:i]], n)
	}
	for id, task := range v.tasks {
		if podOfContainer(id) == pp.podID && task.status != "RUNNING" && task.status != "STOPPED" {
			bad("task %s is %s (pid %d): a half-made or lost task", id, task.status, task.pid)
		}
		if podOfContainer(id) == pp.podID && !v.containers[id] {
			bad("task %s has no container", id)
		}
	}
	pids := map[string]uint32{}
	for _, cs := range p.Status.ContainerStatuses {
		id := strings.TrimPrefix(cs.ContainerID, "containerd://")
		want := podsandbox.ContainerID(pp.podID, cs.Name, int(cs.RestartCount))
		if id != want {
			bad("container %s: status names %q, want %s (attempt = restartCount %d)", cs.Name, cs.ContainerID, want, cs.RestartCount)
		}
		running := 0
		for _, n := range attempts[cs.Name] {
			aid := podsandbox.ContainerID(pp.podID, cs.Name, n)
			if t, ok := v.tasks[aid]; ok && t.status == "RUNNING" {
				running++
				pids[cs.Name] = t.pid
				if aid != id {
					bad("container %s: attempt %d runs, but the status names %s", cs.Name, n, id)
				}
			}
			if n > int(cs.RestartCount) {
				bad("container %s: attempt %d exists beyond restartCount %d", cs.Name, n, cs.RestartCount)
			}
			if n != int(cs.RestartCount) && cs.RestartCount == 0 {
				bad("container %s: attempt %d exists but restartCount is 0", cs.Name, n)
			}
		}
		if running != 1 {
			bad("container %s: %d RUNNING tasks among attempts %v, want exactly 1", cs.Name, running, attempts[cs.Name])
		}
	}
	for _, c := range p.Spec.InitContainers {
		for _, n := range attempts[c.Name] {
			if t, ok := v.tasks[podsandbox.ContainerID(pp.podID, c.Name, n)]; ok && t.status == "RUNNING" {
				bad("init container %s attempt %d still RUNNING", c.Name, n)
			}
		}
	}
	for _, it := range v.ownedBy(pp.podID, kSnapshot) {
		if key, _, _ := strings.Cut(it.detail, " "); !v.containers[key] {
			bad("snapshot %s has no container", it.detail)
		}
	}
	for _, it := range v.ownedBy(pp.podID, kRootfsMount) {
		id := filepath.Base(filepath.Dir(it.detail))
		if _, ok := v.tasks[id]; !ok {
			bad("rootfs of %s is mounted, but it has no task: %s", id, it.detail)
		}
	}

	// The kernel: app containers share the pause's net, ipc and uts
	// namespaces; the pause's net namespace is the pod's netns file (or the
	// host's).
	if sbTask.status == "RUNNING" {
		for _, kind := range []string{"net", "ipc", "uts"} {
			want := readNs(sbTask.pid, kind)
			if want == "" {
				bad("pause pid %d: no %s namespace (dead?)", sbTask.pid, kind)
				continue
			}
			for name, pid := range pids {
				if got := readNs(pid, kind); got != want {
					bad("container %s (pid %d): %s namespace %q, the pause's is %q", name, pid, kind, got, want)
				}
			}
		}
		net := readNs(sbTask.pid, "net")
		if pp.hostNetwork {
			if host := readNs(uint32(os.Getpid()), "net"); net != host {
				bad("hostNetwork pod: pause net namespace %s, the host's is %s", net, host)
			}
		} else if ino := fileInode(filepath.Join(d.RunDir, "netns", pp.podID)); fmt.Sprintf("net:[%d]", ino) != net {
			bad("the netns file %s is inode %d, the pause's net namespace is %s", filepath.Join(d.RunDir, "netns", pp.podID), ino, net)
		}
	}

	// Exactly one of everything else the pod owns.
	count := func(kind string, want int) {
		if got := v.ownedBy(pp.podID, kind); len(got) != want {
			bad("%d %s(s), want %d: %v", len(got), kind, want, got)
		}
	}
	network := 1
	if pp.hostNetwork {
		network = 0
	}
	count(kNetnsFile, network)
	count(kNetnsMount, network)
	count(kCNIAlloc, network)
	count(kMasqRule, network)
	count(kShmMount, 1)
	count(kStateDir, 1)
	count(kShim, 1)
	count(kMount, 0)
	count(kNamingProc, 0)
	if pp.memVolume != "" {
		count(kMemMount, 1)
	} else {
		count(kMemMount, 0)
	}
	if pp.hostPort != 0 {
		count(kHostPortJump, 1)
		count(kHostPortDNAT, 1)
	} else {
		count(kHostPortJump, 0)
		count(kHostPortDNAT, 0)
	}
	for _, it := range v.ownedBy(pp.podID, kCNIAlloc) {
		if it.detail != p.Status.PodIP {
			bad("CNI allocated %s, the pod's IP is %s", it.detail, p.Status.PodIP)
		}
	}
	for _, it := range v.ownedBy(pp.podID, kMasqRule) {
		if it.detail != p.Status.PodIP {
			bad("masquerade rule for %s, the pod's IP is %s", it.detail, p.Status.PodIP)
		}
	}
	for _, it := range v.ownedBy(pp.podID, kHostPortDNAT) {
		if want := net.JoinHostPort(p.Status.PodIP, "8080"); it.detail != want {
			bad("hostPort %d is DNATed to %s, want %s", pp.hostPort, it.detail, want)
		}
	}
	drivers := map[string][]string{} // container ID → the drivers' PIDs
	for _, it := range v.ownedBy(pp.podID, kLogDriver) {
		id := it.detail[strings.LastIndex(it.detail, " ")+1:]
		pid, _, _ := strings.Cut(strings.TrimPrefix(it.detail, "pid "), " ")
		drivers[id] = append(drivers[id], pid)
	}
	for id, pids := range drivers {
		if _, ok := v.tasks[id]; !ok {
			bad("%d log driver(s) for %s, which has no task: pids %v", len(pids), id, pids)
		} else if len(pids) > 1 {
			bad("%d log drivers for %s, want 1: pids %v", len(pids), id, pids)
		}
	}
	for _, it := range v.ownedBy(pp.podID, kLogLink) {
		if strings.HasSuffix(it.detail, "(dangling)") {
			bad("log link %s", it.detail)
		}
	}

	// What the containers see.
	if first := p.Spec.Containers[0].Name; pids[first] != 0 {
		if pp.memVolume != "" {
			if fs := mountFSType(pids[first], pp.memVolume); fs != "tmpfs" {
				bad("Memory emptyDir %s is %q in the container, want tmpfs", pp.memVolume, fs)
			}
		}
		if pp.readyFile != "" {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s", pids[first], pp.readyFile)); err != nil || strings.TrimSpace(string(b)) != "ok" {
				bad("the init container's %s: %q %v", pp.readyFile, b, err)
			}
		}
	}
	if pp.hostNetwork {
		if p.Status.PodIP != p.Status.HostIP {
			bad("hostNetwork pod IP %s, want the host's %s", p.Status.PodIP, p.Status.HostIP)
		}
	} else if _, subnet, _ := net.ParseCIDR(d.Subnet); !subnet.Contains(net.ParseIP(p.Status.PodIP)) {
		bad("pod IP %q is not in %s", p.Status.PodIP, d.Subnet)
	}
	return probs
}

// answers checks that the pod answers on its IP and its hostPort: a TCP
// connection reaches the pod's own web server, or its address answers
// ping.
func answers(pp *poolPod, p *v1.Pod) []string {
	var probs []string
	switch pp.answers {
	case "http":
		if err := httpHostname(net.JoinHostPort(p.Status.PodIP, "8080"), pp.name); err != nil {
			probs = append(probs, fmt.Sprintf("pod %s: its IP does not answer: %v", pp.name, err))
		}
	case "ping":
		if out, err := exec.Command("/bin/busybox", "ping", "-c", "1", "-W", "1", p.Status.PodIP).CombinedOutput(); err != nil {
			probs = append(probs, fmt.Sprintf("pod %s: its IP %s does not answer ping: %v %s", pp.name, p.Status.PodIP, err, out))
		}
	}
	if pp.hostPort != 0 {
		if err := httpHostname(net.JoinHostPort(p.Status.HostIP, strconv.Itoa(pp.hostPort)), pp.name); err != nil {
			probs = append(probs, fmt.Sprintf("pod %s: its hostPort does not answer: %v", pp.name, err))
		}
	}
	return probs
}

// httpHostname GETs /hostname (the container's /etc/hostname, served by
// busybox httpd) and wants the pod's name.
func httpHostname(addr, name string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "GET /hostname HTTP/1.0\r\n\r\n")
	b, _ := io.ReadAll(c)
	if !strings.Contains(string(b), " 200 ") || !strings.HasSuffix(strings.TrimSpace(string(b)), "\n"+name) {
		return fmt.Errorf("%s answered %q, want 200 and %s", addr, b, name)
	}
	return nil
}

// running is what a pod that was fully running before a kill ran.
type running struct {
	uid     types.UID
	pause   uint32
	pids    map[string]uint32 // container name → PID
	ids     map[string]string // container name → container ID
	restart map[string]int32
}

// recordRunning notes the desired pods that the API shows Running with
// every container running, and their PIDs as containerd has them.
func (d *daemon) recordRunning(pool []*poolPod, desired map[string]bool) map[string]running {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	list, err := d.Client.ListPods(ctx, "")
	if err != nil {
		d.t.Logf("before the kill: cannot list pods: %v", err)
		return nil
	}
	out, err := env2ctr(d, "tasks", "ls")
	if err != nil {
		d.t.Logf("before the kill: ctr tasks ls: %v", err)
		return nil
	}
	tasks := map[string]ctrTask{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) == 3 {
			pid, _ := strconv.ParseUint(f[1], 10, 32)
			tasks[f[0]] = ctrTask{pid: uint32(pid), status: f[2]}
		}
	}
	byName := map[string]*poolPod{}
	for _, p := range pool {
		byName[p.name] = p
	}
	rec := map[string]running{}
next:
	for _, p := range list.Items {
		pp := byName[p.Name]
		if pp == nil || !desired[p.Name] || p.UID != pp.uid || allRunning(&p) != nil {
			continue
		}
		var sb ctrTask
		if ids := sandboxesOf(pp.podID, tasks); len(ids) == 1 {
			sb = tasks[ids[0]]
		}
		if sb.status != "RUNNING" {
			continue
		}
		r := running{uid: p.UID, pause: sb.pid, pids: map[string]uint32{}, ids: map[string]string{}, restart: map[string]int32{}}
		for _, cs := range p.Status.ContainerStatuses {
			id := strings.TrimPrefix(cs.ContainerID, "containerd://")
			if t := tasks[id]; t.status == "RUNNING" {
				r.pids[cs.Name], r.ids[cs.Name], r.restart[cs.Name] = t.pid, id, cs.RestartCount
			} else {
				continue next
			}
		}
		rec[p.Name] = r
	}
	return rec
}

// errFatal marks a problem that waiting cannot fix.
var errFatal = errors.New("cannot recover")

// checkConverged checks that the daemon converged: the API lists exactly
// the desired pods, each converged and answering; nothing beyond them is
// left; pods that ran before (before) run the same processes.
func (d *daemon) checkConverged(pool []*poolPod, desired map[string]bool, before map[string]running) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := d.Client.ListPods(ctx, "")
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	pods := map[string]*v1.Pod{}
	var probs []string
	for i := range list.Items {
		p := &list.Items[i]
		pods[p.Name] = p
		if !desired[p.Name] {
			probs = append(probs, fmt.Sprintf("the API lists pod %s (%s), which is not desired", p.Name, p.Status.Phase))
		}
	}
	// A process that ran before the kill and is gone now will not come
	// back: fail at once.
	var dead []string
	for name, r := range before {
		if !processAlive(r.pause) {
			dead = append(dead, fmt.Sprintf("pod %s: pause pid %d died", name, r.pause))
		}
		for c, pid := range r.pids {
			if !processAlive(pid) {
				dead = append(dead, fmt.Sprintf("pod %s: container %s pid %d died", name, c, pid))
			}
		}
	}
	if len(dead) > 0 {
		return fmt.Errorf("%w: pods that were Running before the kill were restarted:\n  %s", errFatal, strings.Join(dead, "\n  "))
	}
	v, err := d.observe(pool)
	if err != nil {
		return err
	}
	probs = append(probs, v.beyondDesired(pool, desired)...)
	for _, pp := range pool {
		if !desired[pp.name] {
			continue
		}
		p := pods[pp.name]
		if p == nil {
			probs = append(probs, fmt.Sprintf("pod %s is desired but not listed", pp.name))
			continue
		}
		probs = append(probs, v.converged(d, pp, p)...)
		if r, ok := before[pp.name]; ok {
			var t ctrTask
			if ids := sandboxesOf(pp.podID, v.tasks); len(ids) == 1 {
				t = v.tasks[ids[0]]
			}
			if t.pid != r.pause {
				probs = append(probs, fmt.Sprintf("pod %s: pause pid %d, was %d before the kill", pp.name, t.pid, r.pause))
			}
			for _, cs := range p.Status.ContainerStatuses {
				id := strings.TrimPrefix(cs.ContainerID, "containerd://")
				if id != r.ids[cs.Name] || v.tasks[id].pid != r.pids[cs.Name] || cs.RestartCount != r.restart[cs.Name] {
					probs = append(probs, fmt.Sprintf("pod %s: container %s is %s pid %d restartCount %d, was %s pid %d restartCount %d before the kill",
						pp.name, cs.Name, id, v.tasks[id].pid, cs.RestartCount, r.ids[cs.Name], r.pids[cs.Name], r.restart[cs.Name]))
				}
			}
		}
	}
	if len(probs) == 0 {
		// The network last: it costs round trips.
		for _, pp := range pool {
			if desired[pp.name] {
				probs = append(probs, answers(pp, pods[pp.name])...)
			}
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return errors.New(strings.Join(probs, "\n  "))
	}
	return nil
}

// waitConverged polls checkConverged until it passes, a problem cannot be
// fixed by waiting, or the deadline passes; it returns the last problem.
func (d *daemon) waitConverged(pool []*poolPod, desired map[string]bool, before map[string]running, deadline time.Time) error {
	for {
		err := d.checkConverged(pool, desired, before)
		if err == nil || errors.Is(err, errFatal) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond) // polling the host, not synchronising
	}
}

// killDaemon SIGKILLs minilet and its process group (the CNI plugins it
// runs), as the OOM killer followed by systemd's cleanup of the unit's
// cgroup would, and waits for it to exit.
func (d *daemon) killDaemon() {
	d.t.Helper()
	d.Kill()
}

// convergeDaemon starts a daemon for a convergence test. Its cleanups run
// in this order: containerd is started again if the test left it dead
// (keepContainerd), the daemon removes its pods and the usual sweep runs
// (startDaemon), then what only a crash leaks is swept (sweepLeaks), so
// that a failing iteration harms no later test. pool is read at cleanup.
func convergeDaemon(t *testing.T, pool *[]*poolPod) *daemon {
	t.Helper()
	var d *daemon
	t.Cleanup(func() {
		if d != nil {
			d.sweepLeaks(*pool)
		}
	})
	d = startDaemon(t)
	keepContainerd(t)
	return d
}

// sweepLeaks kills what the daemon's pods may have leaked beyond their
// containers (shims without tasks, log drivers, processes in pod cgroups),
// then removes their cgroups, runc's state of the namespace and the pool
// pods' iptables chains.
func (d *daemon) sweepLeaks(pool []*poolPod) {
	marker := "/minilet/" + d.Namespace + "/"
	var killed []int
	for _, p := range processes() {
		shim := len(p.args) > 0 && strings.Contains(p.args[0], "containerd-shim") &&
			argAfter(p.args, "-namespace") == d.Namespace && argAfter(p.args, "-address") == env.containerd.address
		driver := len(p.args) > 0 && strings.Contains(strings.Join(p.args, " "), "log-driver") &&
			procEnviron(p.pid)["CONTAINER_NAMESPACE"] == d.Namespace
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.pid))
		if shim || driver || strings.Contains(string(b), marker) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			killed = append(killed, p.pid)
		}
	}
	if len(killed) > 0 {
		d.t.Logf("swept %d leaked processes (shims, log drivers, pod processes): %v", len(killed), killed)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		alive := false
		for _, pid := range killed {
			alive = alive || processAlive(uint32(pid))
		}
		if !alive {
			break
		}
	}
	cgRoot := "/sys/fs/cgroup/*/minilet/" + d.Namespace
	for _, pattern := range []string{cgRoot + "/pod*/*", cgRoot + "/pod*", cgRoot} {
		dirs, _ := filepath.Glob(pattern)
		for _, dir := range dirs {
			_ = syscall.Rmdir(dir)
		}
	}
	_ = os.RemoveAll(filepath.Join("/run/containerd/runc", d.Namespace))
	out, _ := exec.Command("iptables-save").Output()
	table := ""
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "*") {
			table = line[1:]
		}
		name, ok := strings.CutPrefix(line, ":")
		if !ok || !strings.HasPrefix(name, "CNI-") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		hash := name[strings.LastIndex(name, "-")+1:]
		for _, p := range pool {
			if len(hash) >= 16 && strings.HasPrefix(p.chainKey, strings.ToLower(hash)) {
				_ = exec.Command("iptables", "-t", table, "-F", name).Run()
				_ = exec.Command("iptables", "-t", table, "-X", name).Run()
			}
		}
	}
}

// keepContainerd makes sure the shared containerd runs again after the
// test, whatever the test did to it: the next tests and the daemon's own
// cleanup need it. Register it after startDaemon so that it runs first.
func keepContainerd(t *testing.T) {
	t.Cleanup(func() {
		if !env.containerd.Running() {
			if err := env.containerd.Restart(); err != nil {
				t.Errorf("restart containerd: %v", err)
			}
		}
	})
}

// reset drops what the buffer holds.
func (b *lockedBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// tail is the last n lines of the daemon's output.
func (d *daemon) tail(n int) string {
	lines := strings.Split(strings.TrimRight(d.output.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
