package network_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/minilet/minilet/pkg/network"
)

// The integration tests below run real CNI plugins in real network
// namespaces. Each test gets its own network name, bridge, pod CIDR and
// directories, and removes everything it made (bridge, iptables chains,
// mounts) when it ends.

const pluginDir = "/usr/lib/cni"

// sharedPortmapChains are the top-level chains portmap creates on first use
// and never removes.
func sharedPortmapChains() []string {
	return []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}
}

func requireCNI(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping CNI integration test: needs root (network namespaces, bridges, iptables)")
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "bridge")); err != nil {
		t.Skipf("skipping CNI integration test: %s/bridge not found (install containernetworking-plugins)", pluginDir)
	}
	for _, tool := range []string{"ip", "iptables", "iptables-save"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping CNI integration test: %s not found", tool)
		}
	}
}

// env is one test's network: its Manager plus what the cleanup must undo.
type env struct {
	t       *testing.T
	cfg     network.Config
	m       *network.Manager
	subnet  *net.IPNet
	gateway net.IP

	mu       sync.Mutex
	attached map[string]network.Attachment // for the cleanup's safety net
}

// newEnv prepares a test network and starts its Manager.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := prepareEnv(t)
	e.start()
	return e
}

// start creates the env's Manager.
func (e *env) start() {
	e.t.Helper()
	m, err := network.New(e.cfg, zaptest.NewLogger(e.t))
	if err != nil {
		e.t.Fatalf("network.New: %v", err)
	}
	e.m = m
}

// prepareEnv picks the names and directories of a test network and
// registers the cleanup, without creating the Manager.
func prepareEnv(t *testing.T) *env {
	t.Helper()
	requireCNI(t)
	suffix := fmt.Sprintf("%05x", rand.Uint32()&0xfffff)
	subnet := freeSubnet(t)
	dir := t.TempDir()
	e := &env{
		t: t,
		cfg: network.Config{
			BinDirs:     []string{pluginDir},
			ConfDir:     filepath.Join(dir, "net.d"),
			CacheDir:    filepath.Join(dir, "cni"),
			NetnsDir:    filepath.Join(dir, "netns"),
			NetworkName: "mltest-" + suffix,
			BridgeName:  "mlt" + suffix,
			PodCIDR:     subnet.String(),
		},
		subnet:   subnet,
		gateway:  nextIP(subnet.IP),
		attached: map[string]network.Attachment{},
	}

	ipForward := readFile(t, "/proc/sys/net/ipv4/ip_forward")
	hadChains := map[string]bool{}
	for _, c := range sharedPortmapChains() {
		hadChains[c] = exec.Command("iptables", "-t", "nat", "-S", c).Run() == nil
	}
	netnsBefore := ipNetnsList(t)
	home := threadNetns(t)
	tablesBefore := nftTables(t)

	t.Cleanup(func() {
		e.teardown()
		if e.m != nil {
			if err := e.m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		if err := unmountAll(e.cfg.NetnsDir); err != nil {
			t.Errorf("unmount netns dir: %v", err)
		}
		if mps := mountedUnder(t, e.cfg.NetnsDir); len(mps) > 0 {
			t.Errorf("mounts left under %s: %v", e.cfg.NetnsDir, mps)
		}
		if _, err := net.InterfaceByName(e.cfg.BridgeName); err == nil {
			if out, err := exec.Command("ip", "link", "del", e.cfg.BridgeName).CombinedOutput(); err != nil {
				t.Errorf("delete bridge %s: %v\n%s", e.cfg.BridgeName, err, out)
			}
		}
		removeIPTablesOf(t, e.cfg.NetworkName)
		for _, c := range sharedPortmapChains() {
			if !hadChains[c] {
				removeChain(t, "nat", c)
			}
		}
		if now := readFile(t, "/proc/sys/net/ipv4/ip_forward"); now != ipForward {
			if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte(ipForward), 0o644); err != nil {
				t.Errorf("restore ip_forward: %v", err)
			}
		}
		removeNewEmptyNATTables(t, tablesBefore)
		assertThreadsIn(t, home)
		if after := ipNetnsList(t); after != netnsBefore {
			t.Errorf("`ip netns list` changed:\nbefore:\n%s\nafter:\n%s", netnsBefore, after)
		}
	})

	return e
}

// teardown detaches and removes whatever the test left, so that a failed
// test leaks nothing either.
func (e *env) teardown() {
	if e.m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, err := e.m.ListNetns()
	if err != nil {
		e.t.Errorf("ListNetns: %v", err)
	}
	e.mu.Lock()
	atts := make(map[string]network.Attachment, len(e.attached))
	for id, a := range e.attached {
		atts[id] = a
	}
	e.mu.Unlock()
	for _, id := range ids {
		if _, ok := atts[id]; !ok {
			atts[id] = network.Attachment{PodID: id}
		}
	}
	for id, a := range atts {
		if err := e.m.Detach(ctx, e.m.NetnsPath(id), a); err != nil {
			e.t.Errorf("cleanup: Detach %s: %v", id, err)
		}
		if err := e.m.RemoveNetns(id); err != nil {
			e.t.Errorf("cleanup: RemoveNetns %s: %v", id, err)
		}
	}
}

// attach creates the pod's netns and attaches it, remembering it for cleanup.
func (e *env) attach(ctx context.Context, a network.Attachment) (string, []net.IP) {
	e.t.Helper()
	path, err := e.m.CreateNetns(a.PodID)
	if err != nil {
		e.t.Fatalf("CreateNetns(%s): %v", a.PodID, err)
	}
	e.mu.Lock()
	e.attached[a.PodID] = a
	e.mu.Unlock()
	ips, err := e.m.Attach(ctx, path, a)
	if err != nil {
		e.t.Fatalf("Attach(%s): %v", a.PodID, err)
	}
	if len(ips) == 0 || ips[0].To4() == nil || !e.subnet.Contains(ips[0]) {
		e.t.Fatalf("Attach(%s) returned IPs %v, want an IPv4 address in %s first", a.PodID, ips, e.subnet)
	}
	return path, ips
}

// ipamFiles lists the addresses host-local has reserved in this network.
func (e *env) ipamFiles() []string {
	e.t.Helper()
	dir := filepath.Join(e.cfg.CacheDir, "networks", e.cfg.NetworkName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("read IPAM dir: %v", err)
	}
	var ips []string
	for _, ent := range ents {
		if net.ParseIP(ent.Name()) != nil {
			ips = append(ips, ent.Name())
		}
	}
	return ips
}

// assertReleased checks the kernel's and the plugins' view after a pod's
// Detach and RemoveNetns: no netns file or mount, no reserved IP, no
// iptables rule or libcni cache entry naming the pod.
func (e *env) assertReleased(podID string) {
	e.t.Helper()
	path := e.m.NetnsPath(podID)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		e.t.Errorf("netns file %s still exists (err=%v)", path, err)
	}
	if slices.Contains(readMounts(e.t), path) {
		e.t.Errorf("%s still in /proc/mounts", path)
	}
	ids, err := e.m.ListNetns()
	if err != nil {
		e.t.Fatalf("ListNetns: %v", err)
	}
	if slices.Contains(ids, podID) {
		e.t.Errorf("ListNetns still lists %s: %v", podID, ids)
	}
	if ips := e.ipamFiles(); len(ips) > 0 {
		e.t.Errorf("host-local still holds %v", ips)
	}
	if rules := iptablesMentioning(e.t, `id: \"`+podID+`\"`); len(rules) > 0 {
		e.t.Errorf("iptables rules of pod %s left:\n%s", podID, strings.Join(rules, "\n"))
	}
	if files, _ := filepath.Glob("/var/lib/cni/results/*-" + podID + "-*"); len(files) > 0 {
		e.t.Errorf("libcni cache entries of pod %s left: %v", podID, files)
	}
}

func TestAttachServesPodIPAndHostPort(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hostPort := int32(20000 + rand.IntN(20000))
	a := network.Attachment{
		PodID: "pod-web-" + strconv.Itoa(rand.IntN(1e6)), Namespace: "default", Name: "web", UID: "0b9f5bfa-1",
		Ports: []network.PortMapping{{HostPort: hostPort, ContainerPort: 8080, Protocol: "tcp"}},
	}
	path, ips := e.attach(ctx, a)
	t.Logf("pod IPs %v, netns %s", ips, path)

	if ids, err := e.m.ListNetns(); err != nil || !slices.Contains(ids, a.PodID) {
		t.Errorf("ListNetns = %v, %v; want it to hold %s", ids, err, a.PodID)
	}
	if got := e.ipamFiles(); !slices.Equal(got, []string{ips[0].String()}) {
		t.Errorf("host-local reservations %v, want [%s]", got, ips[0])
	}
	if rules := iptablesMentioning(t, `id: \"`+a.PodID+`\"`); len(rules) == 0 {
		t.Errorf("no iptables rule names pod %s after ADD (no masquerade or portmap rules?)", a.PodID)
	}

	stop := serveIn(t, path, ":8080", "hello from "+a.PodID)
	defer stop()
	podAddr := net.JoinHostPort(ips[0].String(), "8080")
	if got := dialRead(t, podAddr); got != "hello from "+a.PodID {
		t.Errorf("pod IP %s answered %q", podAddr, got)
	}
	hostAddr := net.JoinHostPort(e.gateway.String(), strconv.Itoa(int(hostPort)))
	if got := dialRead(t, hostAddr); got != "hello from "+a.PodID {
		t.Errorf("host port %s answered %q", hostAddr, got)
	}
	stop()

	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if got := e.ipamFiles(); len(got) > 0 {
		t.Errorf("host-local still holds %v after Detach", got)
	}
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Errorf("second Detach: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Errorf("second RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
	if _, err := net.DialTimeout("tcp", hostAddr, 300*time.Millisecond); err == nil {
		t.Errorf("host port %s still answers after Detach", hostAddr)
	}
}

func TestCreateNetnsIsIdempotentAndSeparate(t *testing.T) {
	e := newEnv(t)
	const id = "pod-ns"
	p1, err := e.m.CreateNetns(id)
	if err != nil {
		t.Fatalf("CreateNetns: %v", err)
	}
	ino1 := nsInode(t, p1)
	p2, err := e.m.CreateNetns(id)
	if err != nil {
		t.Fatalf("second CreateNetns: %v", err)
	}
	if p1 != p2 || nsInode(t, p2) != ino1 {
		t.Errorf("second CreateNetns gave %s (inode %d), want %s (inode %d)", p2, nsInode(t, p2), p1, ino1)
	}
	if n := countMounts(t, p1); n != 1 {
		t.Errorf("%s is mounted %d times, want 1", p1, n)
	}
	if host := nsInode(t, "/proc/thread-self/ns/net"); host == ino1 {
		t.Errorf("pod netns is the host's")
	}
	if opt := mountOptionalFields(t, "/proc/self/mountinfo", e.cfg.NetnsDir); !strings.Contains(opt, "shared:") {
		t.Errorf("netns dir %s is not a shared mount (optional fields %q)", e.cfg.NetnsDir, opt)
	}

	// A mount namespace copied from ours (as a service manager or a
	// container runtime makes, with slave propagation) sees a netns created
	// after the copy, and sees it go again.
	if _, err := exec.LookPath("unshare"); err == nil {
		child := exec.Command("unshare", "--mount", "--propagation", "slave", "sleep", "30")
		if err := child.Start(); err != nil {
			t.Fatalf("start unshare: %v", err)
		}
		defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
		childInfo := fmt.Sprintf("/proc/%d/mountinfo", child.Process.Pid)
		ourMnt := nsInode(t, "/proc/self/ns/mnt")
		if !waitFor(5*time.Second, func() bool {
			var st unix.Stat_t
			return unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", child.Process.Pid), &st) == nil && st.Ino != ourMnt
		}) {
			t.Fatalf("unshare never entered its own mount namespace")
		}
		if !waitFor(5*time.Second, func() bool { return mountOptionalFields(t, childInfo, p1) != "-" }) {
			t.Fatalf("the child mount namespace does not see %s", p1)
		}
		later, err := e.m.CreateNetns("pod-later")
		if err != nil {
			t.Fatalf("CreateNetns: %v", err)
		}
		if !waitFor(5*time.Second, func() bool { return mountOptionalFields(t, childInfo, later) != "-" }) {
			t.Errorf("a netns created after the copy (%s) did not reach the child mount namespace", later)
		}
		if err := e.m.RemoveNetns("pod-later"); err != nil {
			t.Fatalf("RemoveNetns: %v", err)
		}
		if err := e.m.RemoveNetns(id); err != nil {
			t.Fatalf("RemoveNetns: %v", err)
		}
		for _, p := range []string{p1, later} {
			if !waitFor(5*time.Second, func() bool { return mountOptionalFields(t, childInfo, p) == "-" }) {
				t.Errorf("the removal of %s did not reach the child mount namespace", p)
			}
		}
		e.assertReleased("pod-later")
		if _, err := e.m.CreateNetns(id); err != nil {
			t.Fatalf("CreateNetns again: %v", err)
		}
	}
	if _, err := e.m.CreateNetns("../escape"); err == nil {
		t.Errorf("CreateNetns accepted a pod ID with a slash")
	}
	if err := e.m.RemoveNetns(id); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(id)

	// A file left by a crash between create and mount is reused.
	stale := e.m.NetnsPath(id)
	if err := os.WriteFile(stale, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.m.ListNetns(); !slices.Contains(ids, id) {
		t.Errorf("ListNetns does not list the unmounted leftover: %v", ids)
	}
	if _, err := e.m.CreateNetns(id); err != nil {
		t.Fatalf("CreateNetns over a stale file: %v", err)
	}
	if n := countMounts(t, stale); n != 1 {
		t.Errorf("%s mounted %d times, want 1", stale, n)
	}
	if err := e.m.RemoveNetns(id); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(id)
}

func TestCleanupAfterCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hostPort := int32(20000 + rand.IntN(20000))
	a := network.Attachment{PodID: "pod-crash", Namespace: "default", Name: "crash",
		Ports: []network.PortMapping{{HostPort: hostPort, ContainerPort: 80, Protocol: "TCP"}}}
	_, ips := e.attach(ctx, a)

	// The daemon dies here: ADD done, no DEL. A new one starts on the same
	// directories and cleans up from what it finds on disk.
	restarted, err := network.New(e.cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("New after crash: %v", err)
	}
	ids, err := restarted.ListNetns()
	if err != nil || !slices.Equal(ids, []string{a.PodID}) {
		t.Fatalf("ListNetns after crash = %v, %v; want [%s]", ids, err, a.PodID)
	}
	for _, id := range ids {
		leftover := network.Attachment{PodID: id, Ports: a.Ports}
		if err := restarted.Detach(ctx, restarted.NetnsPath(id), leftover); err != nil {
			t.Fatalf("Detach leftover %s: %v", id, err)
		}
		if err := restarted.RemoveNetns(id); err != nil {
			t.Fatalf("RemoveNetns leftover %s: %v", id, err)
		}
	}
	e.assertReleased(a.PodID)

	// The same pod can be attached again afterwards.
	path, ips2 := e.attach(ctx, a)
	t.Logf("first IP %v, after cleanup %v", ips[0], ips2[0])
	stop := serveIn(t, path, ":80", "again")
	if got := dialRead(t, net.JoinHostPort(e.gateway.String(), strconv.Itoa(int(hostPort)))); got != "again" {
		t.Errorf("host port after re-attach answered %q", got)
	}
	stop()
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
}

func TestDetachAfterNetnsRemoved(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-gone",
		Ports: []network.PortMapping{{HostPort: int32(20000 + rand.IntN(20000)), ContainerPort: 53, Protocol: "udp"}}}
	path, _ := e.attach(ctx, a)
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Fatalf("Detach without the netns: %v", err)
	}
	if err := e.m.Detach(ctx, "", a); err != nil {
		t.Fatalf("Detach with an empty path: %v", err)
	}
	e.assertReleased(a.PodID)
}

func TestDetachWithoutAttach(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-never", Ports: []network.PortMapping{{HostPort: 31999, ContainerPort: 80}}}
	if err := e.m.Detach(ctx, "", a); err != nil {
		t.Errorf("Detach of a never-attached pod without netns: %v", err)
	}
	path, err := e.m.CreateNetns(a.PodID)
	if err != nil {
		t.Fatalf("CreateNetns: %v", err)
	}
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Errorf("Detach of a never-attached pod with a netns: %v", err)
	}
	if err := e.m.Detach(ctx, filepath.Join(e.cfg.NetnsDir, "missing"), network.Attachment{PodID: "missing"}); err != nil {
		t.Errorf("Detach with a missing netns file: %v", err)
	}
	if err := e.m.Detach(ctx, "", network.Attachment{PodID: "bad/id"}); err == nil {
		t.Errorf("Detach accepted an invalid pod ID")
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
}

func TestAttachRejectsBadPorts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path, err := e.m.CreateNetns("pod-badport")
	if err != nil {
		t.Fatalf("CreateNetns: %v", err)
	}
	bad := network.Attachment{PodID: "pod-badport", Ports: []network.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "icmp"}}}
	if _, err := e.m.Attach(ctx, path, bad); err == nil {
		t.Errorf("Attach accepted protocol icmp")
	}
	if err := e.m.RemoveNetns("pod-badport"); err != nil {
		t.Fatal(err)
	}
	e.assertReleased("pod-badport")
}

// TestAttachDuration measures CNI ADD (loopback + bridge/host-local/portmap)
// over ten pods and logs the median.
func TestAttachDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("timing run skipped in -short mode")
	}
	e := newEnv(t)
	ctx := context.Background()
	var took []time.Duration
	for i := 0; i < 10; i++ {
		a := network.Attachment{PodID: fmt.Sprintf("pod-time-%d", i),
			Ports: []network.PortMapping{{HostPort: int32(41000 + i), ContainerPort: 80}}}
		path, err := e.m.CreateNetns(a.PodID)
		if err != nil {
			t.Fatalf("CreateNetns: %v", err)
		}
		e.mu.Lock()
		e.attached[a.PodID] = a
		e.mu.Unlock()
		start := time.Now()
		if _, err := e.m.Attach(ctx, path, a); err != nil {
			t.Fatalf("Attach: %v", err)
		}
		took = append(took, time.Since(start))
		if err := e.m.Detach(ctx, path, a); err != nil {
			t.Fatalf("Detach: %v", err)
		}
		if err := e.m.RemoveNetns(a.PodID); err != nil {
			t.Fatalf("RemoveNetns: %v", err)
		}
		e.assertReleased(a.PodID)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("Attach durations over %d runs: min %v, median %v, max %v", len(took), took[0], took[len(took)/2], took[len(took)-1])
}

// --- helpers that look at the kernel -------------------------------------

// serveIn listens on addr inside the netns at nsPath and answers every
// connection with msg. The socket is created by a thread that joined the
// netns and is then discarded; the socket stays in the pod's namespace.
func serveIn(t *testing.T, nsPath, addr, msg string) (stop func()) {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer unix.Close(orig)
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		// Go home before giving the thread back; if that fails the thread
		// stays locked and the runtime retires it.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		ch <- res{ln: ln, err: err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, nsPath, r.err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			_, _ = fmt.Fprintln(c, msg)
			c.Close()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.ln.Close()
			wg.Wait()
		})
	}
}

func dialRead(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Errorf("read from %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

// threadNetns returns the inode of the calling thread's network namespace.
func threadNetns(t *testing.T) uint64 {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return nsInode(t, fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
}

// assertThreadsIn checks that every thread of the test process is in the
// network namespace with inode home: creating or entering a pod's netns
// must not leave a thread behind in it.
func assertThreadsIn(t *testing.T, home uint64) {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatalf("list threads: %v", err)
	}
	for _, task := range tasks {
		var st unix.Stat_t
		p := filepath.Join("/proc/self/task", task.Name(), "ns/net")
		if err := unix.Stat(p, &st); err != nil {
			continue // thread exited
		}
		if st.Ino != home {
			t.Errorf("thread %s is in netns %d, not the test's own %d", task.Name(), st.Ino, home)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func ipNetnsList(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, out)
	}
	return string(out)
}

// readMounts returns the mount points in /proc/mounts.
func readMounts(t *testing.T) []string {
	t.Helper()
	var mps []string
	for _, line := range strings.Split(readFile(t, "/proc/mounts"), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			mps = append(mps, unescapeMount(f[1]))
		}
	}
	return mps
}

// mountOptionalFields returns the optional fields ("shared:N master:M")
// of the mount at path in a mountinfo file, or "-" if nothing is mounted
// there.
func mountOptionalFields(t *testing.T, mountinfo, path string) string {
	t.Helper()
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		t.Fatalf("read %s: %v", mountinfo, err)
	}
	found := "-"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || unescapeMount(f[4]) != path {
			continue
		}
		sep := slices.Index(f, "-")
		if sep < 6 {
			continue
		}
		found = strings.Join(f[6:sep], " ") // the last mount stacked there wins
	}
	return found
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func countMounts(t *testing.T, path string) int {
	t.Helper()
	n := 0
	for _, mp := range readMounts(t) {
		if mp == path {
			n++
		}
	}
	return n
}

func mountedUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, mp := range readMounts(t) {
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space) of /proc/mounts.
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unmountAll(path string) error {
	for i := 0; i < 16; i++ {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
				return nil
			}
			return err
		}
	}
	return fmt.Errorf("%s still mounted", path)
}

// iptablesMentioning returns the rules of every table that contain s.
func iptablesMentioning(t *testing.T, s string) []string {
	t.Helper()
	out, err := exec.Command("iptables-save").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-save: %v\n%s", err, out)
	}
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, s) {
			rules = append(rules, line)
		}
	}
	return rules
}

// removeIPTablesOf deletes the nat rules whose comment names network, and
// the per-pod chains they jump to, which a failed test may have left.
func removeIPTablesOf(t *testing.T, networkName string) {
	t.Helper()
	out, err := exec.Command("iptables", "-t", "nat", "-S").CombinedOutput()
	if err != nil {
		t.Errorf("iptables -t nat -S: %v\n%s", err, out)
		return
	}
	chains := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "-A ") || !strings.Contains(line, `name: \"`+networkName+`\"`) {
			continue
		}
		t.Logf("removing leftover rule: %s", line)
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "-j" && i+1 < len(f) && strings.HasPrefix(f[i+1], "CNI-") {
				chains[f[i+1]] = true
			}
		}
		args := append([]string{"-t", "nat", "-D"}, splitRule(line[3:])...)
		if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
			t.Errorf("iptables %v: %v\n%s", args, err, out)
		}
	}
	for c := range chains {
		if !slices.Contains(sharedPortmapChains(), c) {
			removeChain(t, "nat", c)
		}
	}
}

// nftTables returns the nftables tables ("ip nat", ...), or nil when nft is
// not installed.
func nftTables(t *testing.T) map[string]bool {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		return nil
	}
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Logf("nft list tables: %v\n%s", err, out)
		return nil
	}
	tables := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables[name] = true
		}
	}
	return tables
}

// removeNewEmptyNATTables deletes the nat tables that iptables-nft created
// for the plugins during the test, if no rule is left in them: an empty
// table with nat base chains still hooks every packet.
func removeNewEmptyNATTables(t *testing.T, before map[string]bool) {
	t.Helper()
	if before == nil {
		return
	}
	now := nftTables(t)
	for _, table := range []string{"ip nat", "ip6 nat"} {
		if before[table] || !now[table] {
			continue
		}
		out, err := exec.Command("nft", append([]string{"list", "table"}, strings.Fields(table)...)...).CombinedOutput()
		if err != nil {
			continue
		}
		empty := true
		for _, line := range strings.Split(string(out), "\n") {
			l := strings.TrimSpace(line)
			if l == "" || l == "}" || strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "chain ") || strings.HasPrefix(l, "type ") {
				continue
			}
			empty = false
		}
		if !empty {
			t.Logf("leaving nftables table %s: it holds rules", table)
			continue
		}
		if out, err := exec.Command("nft", append([]string{"delete", "table"}, strings.Fields(table)...)...).CombinedOutput(); err != nil {
			t.Errorf("nft delete table %s: %v\n%s", table, err, out)
		}
	}
}

// removeChain deletes the rules jumping to chain, then chain itself.
func removeChain(t *testing.T, table, chain string) {
	t.Helper()
	if exec.Command("iptables", "-t", table, "-S", chain).Run() != nil {
		return // not there
	}
	out, err := exec.Command("iptables", "-t", table, "-S").CombinedOutput()
	if err != nil {
		t.Errorf("iptables -t %s -S: %v\n%s", table, err, out)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "-A ") && strings.Contains(line, "-j "+chain) {
			args := append([]string{"-t", table, "-D"}, splitRule(line[3:])...)
			if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
				t.Errorf("iptables %v: %v\n%s", args, err, out)
			}
		}
	}
	for _, op := range []string{"-F", "-X"} {
		if out, err := exec.Command("iptables", "-t", table, op, chain).CombinedOutput(); err != nil {
			t.Errorf("iptables -t %s %s %s: %v\n%s", table, op, chain, err, out)
		}
	}
}

// splitRule splits an `iptables -S` rule into arguments, honouring the
// double quotes around comments.
func splitRule(s string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && inQuote:
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			have = true
		case c == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// freeSubnet picks a random /24 in 10.200.0.0/13 that overlaps no route.
func freeSubnet(t *testing.T) *net.IPNet {
	t.Helper()
	out, err := exec.Command("ip", "-4", "-o", "route", "show", "table", "all").CombinedOutput()
	if err != nil {
		t.Fatalf("ip route: %v\n%s", err, out)
	}
	var used []*net.IPNet
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, n, err := net.ParseCIDR(dst); err == nil {
			used = append(used, n)
		}
	}
	for try := 0; try < 100; try++ {
		cand := &net.IPNet{IP: net.IPv4(10, byte(200+rand.IntN(8)), byte(rand.IntN(256)), 0).To4(), Mask: net.CIDRMask(24, 32)}
		if !slices.ContainsFunc(used, func(n *net.IPNet) bool { return n.Contains(cand.IP) || cand.Contains(n.IP) }) {
			return cand
		}
	}
	t.Fatalf("no free /24 in 10.200.0.0/13")
	return nil
}

func nextIP(ip net.IP) net.IP {
	out := slices.Clone(ip.To4())
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			break
		}
	}
	return out
}

func TestDetachWithoutPortsSweepsPortmapRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-lostports",
		Ports: []network.PortMapping{{HostPort: int32(20000 + rand.IntN(20000)), ContainerPort: 80}}}
	path, _ := e.attach(ctx, a)
	rules := iptablesMentioning(t, `dnat name: \"`+e.cfg.NetworkName+`\" id: \"`+a.PodID+`\"`)
	if len(rules) == 0 {
		t.Fatalf("no portmap rule for the pod after ADD")
	}
	var dnatChains []string
	for _, r := range rules {
		f := strings.Fields(r)
		if i := slices.Index(f, "-j"); i >= 0 && i+1 < len(f) {
			dnatChains = append(dnatChains, f[i+1])
		}
	}
	// A caller that lost the pod's ports still gets every rule removed.
	if err := e.m.Detach(ctx, path, network.Attachment{PodID: a.PodID}); err != nil {
		t.Fatalf("Detach without ports: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
	for _, c := range dnatChains {
		if exec.Command("iptables", "-t", "nat", "-S", c).Run() == nil {
			t.Errorf("per-pod DNAT chain %s still exists", c)
		}
	}
}

func TestNewUsesExistingConfig(t *testing.T) {
	e := prepareEnv(t)
	if err := os.MkdirAll(e.cfg.ConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A config for another network sorts first; the one named like ours
	// must win. Neither is the default file name.
	other := fmt.Sprintf(`{"cniVersion":"0.4.0","name":"zz-other","type":"bridge","bridge":"%sx","ipam":{"type":"host-local","subnet":"10.254.254.0/24"}}`, e.cfg.BridgeName[:len(e.cfg.BridgeName)-1])
	writeTestFile(t, filepath.Join(e.cfg.ConfDir, "01-other.conf"), other)
	ours := fmt.Sprintf(`{"cniVersion":"0.4.0","name":%q,"plugins":[
		{"type":"bridge","bridge":%q,"isGateway":true,"ipMasq":true,
		 "ipam":{"type":"host-local","subnet":%q,"dataDir":%q}},
		{"type":"portmap","capabilities":{"portMappings":true}}]}`,
		e.cfg.NetworkName, e.cfg.BridgeName, e.cfg.PodCIDR, filepath.Join(e.cfg.CacheDir, "networks"))
	writeTestFile(t, filepath.Join(e.cfg.ConfDir, "50-mine.conflist"), ours)
	e.start()

	if got := e.m.Network(); got != e.cfg.NetworkName {
		t.Fatalf("Network() = %q, want %q", got, e.cfg.NetworkName)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.ConfDir, "10-"+e.cfg.NetworkName+".conflist")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New wrote a default conflist into a dir that had configs (err=%v)", err)
	}
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-userconf"}
	path, ips := e.attach(ctx, a)
	t.Logf("IPs from the user's 0.4.0 config: %v", ips)
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
}

func TestNewReportsMissingPlugin(t *testing.T) {
	e := prepareEnv(t)
	if err := os.MkdirAll(e.cfg.ConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(e.cfg.ConfDir, "10-x.conflist"),
		fmt.Sprintf(`{"cniVersion":"1.0.0","name":%q,"plugins":[{"type":"minilet-no-such-plugin"}]}`, e.cfg.NetworkName))
	_, err := network.New(e.cfg, zaptest.NewLogger(t))
	if err == nil || !strings.Contains(err.Error(), "minilet-no-such-plugin") {
		t.Fatalf("New with a missing plugin: err = %v, want one naming the plugin", err)
	}
	t.Logf("error: %v", err)
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
