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
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/minilet/minilet/pkg/network"
)

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
	dnat := e.dnatChains(a.PodID)
	if len(dnat) != 1 {
		t.Errorf("portmap DNAT chains of the pod: %v, want one", dnat)
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
	e.assertChainsGone(dnat)
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

func TestDetachWithoutPortsSweepsPortmapRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-lostports",
		Ports: []network.PortMapping{{HostPort: int32(20000 + rand.IntN(20000)), ContainerPort: 80}}}
	path, _ := e.attach(ctx, a)
	dnat := e.dnatChains(a.PodID)
	if len(dnat) == 0 {
		t.Fatalf("no portmap rule for the pod after ADD")
	}
	// A caller that lost the pod's ports still gets every rule removed.
	if err := e.m.Detach(ctx, path, network.Attachment{PodID: a.PodID}); err != nil {
		t.Fatalf("Detach without ports: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
	e.assertChainsGone(dnat)
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

// A DEL interrupted after the bridge plugin deleted the masquerade rule
// that jumps to the pod's chain, but before it deleted the chain, leaves a
// chain nothing points at: the next Detach finds it by its name.
func TestDetachRemovesChainLeftByInterruptedDel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-halfdel"}
	e.attach(ctx, a)
	var chains []string
	for {
		out, err := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").Output()
		if err != nil {
			t.Fatal(err)
		}
		n, found := 0, false
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "-A POSTROUTING") {
				continue
			}
			n++
			f := strings.Fields(line)
			j := slices.Index(f, "-j")
			if strings.Contains(line, `id: \"`+a.PodID+`\"`) && j >= 0 && j+1 < len(f) && strings.HasPrefix(f[j+1], "CNI-") {
				chains = append(chains, f[j+1])
				if out, err := exec.Command("iptables", "-t", "nat", "-D", "POSTROUTING", fmt.Sprint(n)).CombinedOutput(); err != nil {
					t.Fatalf("delete rule %d: %v\n%s", n, err, out)
				}
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	if len(chains) == 0 {
		t.Fatal("no masquerade rule jumping to a per-pod chain after ADD")
	}
	if err := e.m.Detach(ctx, "", a); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
	e.assertChainsGone(chains)
}

// A CNI ADD cut short (the daemon killed with its plugins) can leave the
// pod's address and veth without the masquerade chain the bridge plugin
// makes last. Its DEL then fails on iptables-nft ("Chain ... does not
// exist", exit status 2, which the plugin does not take for "already
// gone"), and the pod could never be detached nor made again.
func TestDetachAfterAddCutBeforeItsMasqueradeChain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := network.Attachment{PodID: "pod-halfadd"}
	path, _ := e.attach(ctx, a)
	var chains []string
	for {
		out, err := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").Output()
		if err != nil {
			t.Fatal(err)
		}
		n, found := 0, false
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "-A POSTROUTING") {
				continue
			}
			n++
			f := strings.Fields(line)
			j := slices.Index(f, "-j")
			if strings.Contains(line, `id: \"`+a.PodID+`\"`) && j >= 0 && j+1 < len(f) && strings.HasPrefix(f[j+1], "CNI-") {
				chains = append(chains, f[j+1])
				if out, err := exec.Command("iptables", "-t", "nat", "-D", "POSTROUTING", fmt.Sprint(n)).CombinedOutput(); err != nil {
					t.Fatalf("delete rule %d: %v\n%s", n, err, out)
				}
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	if len(chains) == 0 {
		t.Fatal("no masquerade rule jumping to a per-pod chain after ADD")
	}
	for _, c := range chains {
		for _, op := range []string{"-F", "-X"} {
			if out, err := exec.Command("iptables", "-t", "nat", op, c).CombinedOutput(); err != nil {
				t.Fatalf("iptables -t nat %s %s: %v\n%s", op, c, err, out)
			}
		}
	}
	if err := e.m.Detach(ctx, path, a); err != nil {
		t.Fatalf("Detach after an ADD cut before its masquerade chain: %v", err)
	}
	if err := e.m.RemoveNetns(a.PodID); err != nil {
		t.Fatalf("RemoveNetns: %v", err)
	}
	e.assertReleased(a.PodID)
	e.assertChainsGone(chains)
}
