package systemd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rootfsKey names the kept root filesystem: change it when the package
// list changes.
const rootfsKey = "bookworm-minbase-v1"

var rootfsPackages = []string{"systemd", "systemd-sysv", "dbus", "containerd", "runc", "containernetworking-plugins",
	"iptables", "ca-certificates", "busybox-static", "iproute2", "procps"}

// rootfsCache is where the root filesystem is kept between runs.
func rootfsCache() string {
	if d := os.Getenv("MINILET_NSPAWN_CACHE"); d != "" {
		return d
	}
	return "/var/tmp/minilet-nspawn"
}

// ensureRootfs returns the kept root filesystem, making it once (~1.5 min).
func ensureRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(rootfsCache(), rootfsKey)
	if _, err := os.Stat(filepath.Join(dir, "usr/lib/systemd/systemd")); err == nil {
		return dir
	}
	if err := os.MkdirAll(rootfsCache(), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(rootfsCache(), "."+rootfsKey+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Logf("making the root filesystem %s once with debootstrap", dir)
	start := time.Now()
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include="+strings.Join(rootfsPackages, ","),
		"bookworm", tmp, "http://deb.debian.org/debian")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, lastLines(string(out), 30))
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("root filesystem made in %s", time.Since(start).Round(time.Second))
	return dir
}

// machine is a systemd booted in systemd-nspawn.
type machine struct {
	t      *testing.T
	nspawn *exec.Cmd
	pid1   int      // the container's systemd, as the host sees it
	cgs    []string // the cgroups the whole machine runs in
	log    strings.Builder
}

// boot starts systemd in a throwaway overlay of rootfs with binds
// (host path → path inside, read-only) and waits for its PID 1.
func boot(t *testing.T, rootfs string, binds map[string]string) *machine {
	t.Helper()
	m := &machine{t: t}
	name := fmt.Sprintf("minilet-nspawn-%d", os.Getpid())
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	join := []string{"true"}
	for _, h := range hier {
		if fi, err := os.Stat(h); err != nil || !fi.IsDir() {
			continue
		}
		cg := filepath.Join(h, name)
		if err := os.Mkdir(cg, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			continue
		}
		m.cgs = append(m.cgs, cg)
		join = append(join, fmt.Sprintf("echo $$ > %s/cgroup.procs 2>/dev/null", cg))
	}
	args := []string{"-D", rootfs, "--volatile=overlay", "--register=no", "--keep-unit", "--boot",
		"--capability=all", "--system-call-filter=@keyring", "--private-network",
		"--tmpfs=/var/lib/containerd", "--machine=" + name}
	for host, in := range binds {
		args = append(args, "--bind-ro="+host+":"+in)
	}
	// In cgroups of its own, so that all it runs goes with one removal.
	script := strings.Join(join, "; ") + "; exec systemd-nspawn " + shellQuote(args)
	m.nspawn = exec.Command("sh", "-c", script)
	m.nspawn.Stdout, m.nspawn.Stderr = &m.log, &m.log
	m.nspawn.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := m.nspawn.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)
	deadline := time.Now().Add(30 * time.Second)
	for m.pid1 == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no systemd in the container after 30 s:\n%s", m.log.String())
		}
		m.pid1 = childNamed(m.nspawn.Process.Pid, "systemd")
		time.Sleep(50 * time.Millisecond)
	}
	m.waitFor(60*time.Second, "systemd has started", func() error {
		out, _ := m.run("systemctl", "is-system-running")
		if s := strings.TrimSpace(out); s != "running" && s != "degraded" {
			return fmt.Errorf("system %q", s)
		}
		return nil
	})
	return m
}

// stop kills the container's PID 1 (a poweroff would wait for every
// container's stop timeout) and removes its cgroups.
func (m *machine) stop() {
	if m.pid1 != 0 {
		_ = syscall.Kill(m.pid1, syscall.SIGKILL)
	}
	done := make(chan struct{})
	go func() { _ = m.nspawn.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = m.nspawn.Process.Kill()
		<-done
	}
	for _, cg := range m.cgs {
		killAndRemoveCgroup(cg)
	}
}

func killAndRemoveCgroup(cg string) {
	var dirs []string
	_ = filepath.Walk(cg, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if b, err := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := len(dirs) - 1; i >= 0; i-- {
		for os.Remove(dirs[i]) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// run runs a command inside the machine (every namespace of its PID 1)
// and returns its combined output.
func (m *machine) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(m.pid1), "-a", "--",
		"env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_PAGER=", "TERM=dumb"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sh runs a shell command inside the machine and fails the test on error.
func (m *machine) sh(script string) string {
	m.t.Helper()
	out, err := m.run("sh", "-c", script)
	if err != nil {
		m.t.Fatalf("in the machine: %s: %v\n%s", script, err, out)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func (m *machine) waitFor(d time.Duration, what string, cond func() error) {
	m.t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("timed out after %s waiting until %s: %v", d, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// childNamed finds a child process of parent whose comm is name.
func childNamed(parent int, name string) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", parent))
	for _, tk := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", parent, tk.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == name {
				return pid
			}
			if p := childNamed(pid, name); p != 0 {
				return p
			}
		}
	}
	return 0
}

func shellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

func lastLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
