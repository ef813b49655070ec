package systemd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/cbuild"
	"github.com/minilet/minilet/pkg/ociarchive"
)

const testImage = "localhost/minilet-test/busybox:1"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestUnitUnderSystemd runs the repository's unit under systemd 252 as an
// operator does, and checks what only a real systemd shows: Type=notify
// readiness (not active before READY=1, e.g. while containerd does not
// answer; active with a missing /etc/minilet), STATUS= from the start, a
// restart and a SIGKILL of the daemon adopting the pod without restarting
// it, the watchdog restarting a hung daemon, and journal priorities and
// fields (`journalctl -p err`, `journalctl POD=web`).
func TestUnitUnderSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots systemd in systemd-nspawn; not with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "nsenter", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; run `make deps`", tool)
		}
	}
	rootfs := ensureRootfs(t)
	dir := t.TempDir()
	bins := buildBinaries(t, dir)
	dropIn := filepath.Join(dir, "test.conf")
	// A short watchdog, so that the test sees it bite.
	writeFile(t, dropIn, "[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\nTimeoutStopSec=5s\nRestartSec=1\n")
	m := boot(t, rootfs, map[string]string{
		bins["minilet"]:            "/usr/local/bin/minilet",
		bins["minilet-log-driver"]: "/usr/local/lib/minilet/minilet-log-driver",
		bins["pause"]:              "/usr/local/lib/minilet/pause",
		filepath.Join(repoRoot(), "systemd", "minilet.service"): "/etc/systemd/system/minilet.service",
		dropIn:        "/etc/systemd/system/minilet.service.d/test.conf",
		bins["image"]: "/opt/busybox.tar",
	})
	// nspawn mounts the v1 controllers read-only; runc needs them
	// writable (a plain remount says "busy").
	m.sh(`for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done; systemctl restart containerd`)
	m.waitFor(30*time.Second, "containerd is active", func() error { return m.isActive("containerd") })

	// A missing /etc/minilet does not keep the unit from being active.
	m.sh("systemctl daemon-reload; rm -rf /etc/minilet; systemctl start minilet")
	m.waitFor(30*time.Second, "minilet is active without /etc/minilet", func() error { return m.isActive("minilet") })
	if st := m.status(); st == "" {
		t.Fatal("STATUS= is empty right after the unit became active")
	}

	m.sh("minilet images import /opt/busybox.tar >/dev/null && mkdir -p /etc/minilet && chmod 755 /etc/minilet")
	m.sh(`cat > /etc/minilet/web.yaml <<'EOF2'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: "` + testImage + `", imagePullPolicy: Never, command: ["sleep", "3600"]}]
EOF2`)
	m.waitFor(90*time.Second, "pod web runs", func() error { return m.podRunning("web") })
	pid := m.sleeperPID()

	// systemctl restart: the pod is adopted, not restarted.
	m.sh("systemctl restart minilet")
	m.waitFor(30*time.Second, "minilet is active again", func() error { return m.isActive("minilet") })
	m.waitFor(30*time.Second, "pod web is adopted", func() error { return m.podRunning("web") })
	if got := m.sleeperPID(); got != pid {
		t.Fatalf("systemctl restart minilet restarted the pod: pid %d → %d", pid, got)
	}

	// SIGKILL: systemd restarts the daemon (Restart=always), the pod stays.
	restarts := m.nRestarts()
	m.sh("systemctl kill -s KILL minilet")
	m.waitFor(30*time.Second, "systemd restarts the killed daemon", func() error {
		if n := m.nRestarts(); n <= restarts {
			return fmt.Errorf("NRestarts %d", n)
		}
		return m.isActive("minilet")
	})
	if got := m.sleeperPID(); got != pid {
		t.Fatalf("a SIGKILL of minilet restarted the pod: pid %d → %d", pid, got)
	}

	// A hung daemon (SIGSTOP) misses the watchdog and is restarted.
	restarts = m.nRestarts()
	m.sh("systemctl kill -s STOP minilet")
	m.waitFor(60*time.Second, "the watchdog restarts the hung daemon", func() error {
		if n := m.nRestarts(); n <= restarts {
			return fmt.Errorf("NRestarts %d", n)
		}
		return m.isActive("minilet")
	})
	if out := m.sh("journalctl -u minilet --no-pager -o cat"); !strings.Contains(out, "Watchdog timeout") {
		t.Errorf("no watchdog timeout in the journal:\n%s", lastLines(out, 20))
	}

	// Type=notify: while containerd does not answer, the unit is not
	// active, and says why; it is once containerd answers.
	m.sh("systemctl kill -s STOP containerd; systemctl restart --no-block minilet")
	m.waitFor(60*time.Second, "minilet is activating while containerd hangs", func() error {
		if s := m.activeState("minilet"); s != "activating" {
			return fmt.Errorf("state %q", s)
		}
		if m.status() == "" {
			return fmt.Errorf("no STATUS= while activating")
		}
		return nil
	})
	m.sh("systemctl kill -s CONT containerd")
	m.waitFor(60*time.Second, "minilet is active once containerd answers", func() error { return m.isActive("minilet") })

	// The journal: errors at priority err, pod lines under POD=.
	m.sh("printf 'apiVersion: v1\\nkind: Pod\\nmetadata: {name: bad}\\nspec: {containers: [{name: a, imagee: x}]}\\n' > /etc/minilet/bad.yaml")
	m.waitFor(60*time.Second, "journalctl -p err shows the refused manifest", func() error {
		out, _ := m.run("journalctl", "-u", "minilet", "-p", "err", "--no-pager", "-o", "cat")
		if !strings.Contains(out, "bad.yaml") {
			return fmt.Errorf("journalctl -p err:\n%s", lastLines(out, 10))
		}
		return nil
	})
	if out, _ := m.run("journalctl", "-u", "minilet", "-p", "err", "--no-pager", "-o", "cat"); strings.Contains(out, "pod running") {
		t.Errorf("info lines reach priority err:\n%s", lastLines(out, 10))
	}
	if out := m.sh("journalctl -u minilet --no-pager -o cat POD=web NAMESPACE=default"); !strings.Contains(out, "started container") {
		t.Errorf("journalctl POD=web:\n%s", lastLines(out, 10))
	}
}

func (m *machine) activeState(unit string) string {
	out, _ := m.run("systemctl", "show", "-p", "ActiveState", "--value", unit)
	return strings.TrimSpace(out)
}

func (m *machine) isActive(unit string) error {
	if s := m.activeState(unit); s != "active" {
		out, _ := m.run("journalctl", "-u", unit, "--no-pager", "-n", "5", "-o", "cat")
		return fmt.Errorf("%s is %q; last lines:\n%s", unit, s, out)
	}
	return nil
}

func (m *machine) status() string {
	out, _ := m.run("systemctl", "show", "-p", "StatusText", "--value", "minilet")
	return strings.TrimSpace(out)
}

func (m *machine) nRestarts() int {
	out, _ := m.run("systemctl", "show", "-p", "NRestarts", "--value", "minilet")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

func (m *machine) podRunning(name string) error {
	out, err := m.run("minilet", "get", "pods", name, "-o", "json")
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	var p v1.Pod
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return err
	}
	if p.Status.Phase != v1.PodRunning {
		return fmt.Errorf("phase %s", p.Status.Phase)
	}
	return nil
}

// sleeperPID is the PID (inside the machine) of the pod's `sleep 3600`.
func (m *machine) sleeperPID() int {
	m.t.Helper()
	out := m.sh("pgrep -x -f 'sleep 3600'")
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		m.t.Fatalf("pgrep: %q", out)
	}
	return pid
}

// buildBinaries builds minilet (static Go), the pause program and the log
// driver (static C), and the test image.
func buildBinaries(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{
		"minilet": filepath.Join(dir, "minilet"), "pause": filepath.Join(dir, "pause"),
		"minilet-log-driver": filepath.Join(dir, "minilet-log-driver"), "image": filepath.Join(dir, "busybox.tar"),
	}
	cmd := exec.Command("go", "build", "-o", out["minilet"], "./cmd/minilet")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build minilet: %v\n%s", err, b)
	}
	if err := cbuild.Static(filepath.Join(repoRoot(), "pause", "pause.c"), out["pause"]); err != nil {
		t.Fatal(err)
	}
	if err := cbuild.Static(filepath.Join(repoRoot(), "logdriver", "logdriver.c"), out["minilet-log-driver"]); err != nil {
		t.Fatal(err)
	}
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, testImage, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, out["image"], buf.String())
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
