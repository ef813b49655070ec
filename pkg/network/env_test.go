package network_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

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

// dnatChains returns the per-pod DNAT chains portmap made for podID.
func (e *env) dnatChains(podID string) []string {
	e.t.Helper()
	var chains []string
	for _, r := range iptablesMentioning(e.t, `dnat name: \"`+e.cfg.NetworkName+`\" id: \"`+podID+`\"`) {
		f := strings.Fields(r)
		if i := slices.Index(f, "-j"); i >= 0 && i+1 < len(f) {
			chains = append(chains, f[i+1])
		}
	}
	return chains
}

// assertChainsGone checks that none of chains exists in the nat table.
func (e *env) assertChainsGone(chains []string) {
	e.t.Helper()
	for _, c := range chains {
		if exec.Command("iptables", "-t", "nat", "-S", c).Run() == nil {
			e.t.Errorf("per-pod chain %s still exists", c)
		}
	}
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
