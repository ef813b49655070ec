package network_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This file holds the integration tests' helpers that read or change the
// kernel's state directly: sockets in a netns, mounts, threads' namespaces,
// iptables and nftables, routes.

// serveIn listens on addr inside the netns at nsPath and answers every
// connection with msg. A thread joins the netns just long enough to create
// the socket, which stays in the pod's namespace.
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
