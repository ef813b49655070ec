package pause_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minilet/minilet/internal/cbuild"
)

// maxRSSKiB is the resident memory the pause program must stay under.
const maxRSSKiB = 1024

// buildPause compiles pause.c the way the release build does and returns the
// binary's path. It skips the test when gcc is missing.
func buildPause(t *testing.T) string {
	return cbuild.ForTest(t, "pause.c", "pause")
}

// procStat holds the fields of /proc/<pid>/stat the tests need.
type procStat struct {
	pid   int
	comm  string
	state string
	ppid  int
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat: %q", pid, s)
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat: %q", pid, s)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("ppid in /proc/%d/stat: %w", pid, err)
	}
	return procStat{pid: pid, comm: s[open+1 : end], state: fields[0], ppid: ppid}, nil
}

// childrenOf lists the processes whose parent is ppid, as the kernel sees them.
func childrenOf(t *testing.T, ppid int) []procStat {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	var kids []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // exited while we looked
		}
		if st.ppid == ppid {
			kids = append(kids, st)
		}
	}
	return kids
}

// vmRSSKiB reads VmRSS from /proc/<pid>/status.
func vmRSSKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read status of %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// waitFor polls cond every 20ms until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSleeping waits until pid has settled in pause(2).
func waitSleeping(t *testing.T, pid int) {
	t.Helper()
	ok := waitFor(5*time.Second, func() bool {
		st, err := readStat(pid)
		return err == nil && st.state == "S"
	})
	if !ok {
		t.Fatalf("process %d never reached state S", pid)
	}
}

// exitStatus waits for cmd and returns its exit status, failing the test if
// it was killed by a signal or does not exit within 5s.
func exitStatus(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("pause did not exit within 5s")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("pause was killed by %v, want a clean exit", ws.Signal())
	}
	return ws.ExitStatus()
}

func TestVersion(t *testing.T) {
	bin := buildPause(t)
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		t.Fatalf("pause -v: %v", err)
	}
	if !strings.HasPrefix(string(out), "minilet pause ") {
		t.Fatalf("pause -v printed %q", out)
	}
}

func TestStopSignalsExitZero(t *testing.T) {
	bin := buildPause(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatalf("start pause: %v", err)
			}
			waitSleeping(t, cmd.Process.Pid)

			rss := vmRSSKiB(t, cmd.Process.Pid)
			t.Logf("pause VmRSS = %d kB", rss)
			if rss >= maxRSSKiB {
				t.Errorf("pause VmRSS = %d kB, want < %d kB", rss, maxRSSKiB)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatalf("signal pause: %v", err)
			}
			if code := exitStatus(t, cmd); code != 0 {
				t.Fatalf("exit status after %v = %d, want 0", sig, code)
			}
			if !strings.Contains(stderr.String(), "not running as PID 1") {
				t.Errorf("no PID 1 warning on stderr; got %q", stderr.String())
			}
		})
	}
}

// startInPIDNamespace starts argv as PID 1 of a new PID namespace.
func startInPIDNamespace(t *testing.T, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v in a new PID namespace: %v", argv, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitSleeping(t, cmd.Process.Pid)
	return cmd
}

// orphanInto starts a shell inside init's PID namespace that backgrounds
// `sleep secs` and exits at once. The orphaned sleep is re-parented to the
// namespace's PID 1, init.
func orphanInto(t *testing.T, initPID int, secs string) {
	t.Helper()
	out, err := exec.Command("nsenter", "--target", strconv.Itoa(initPID), "--pid", "--",
		"sh", "-c", "sleep "+secs+" >/dev/null 2>&1 & exit 0").CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter into PID namespace of %d: %v\n%s", initPID, err, out)
	}
}

// waitOrphan waits until init has a child named sleep, and returns it.
func waitOrphan(t *testing.T, initPID int) procStat {
	t.Helper()
	var orphan procStat
	ok := waitFor(5*time.Second, func() bool {
		for _, k := range childrenOf(t, initPID) {
			if k.comm == "sleep" {
				orphan = k
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("the orphaned sleep was never re-parented to %d", initPID)
	}
	return orphan
}

func TestReapsOrphansAsPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a PID namespace")
	}
	for _, tool := range []string{"nsenter", "sh", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	if runtime.GOOS != "linux" {
		t.Skip("linux only")
	}
	bin := buildPause(t)

	// Control: a PID 1 that never waits leaves the orphan a zombie, which
	// shows that the check below can see one.
	t.Run("control without reaper leaves a zombie", func(t *testing.T) {
		sleeper, err := exec.LookPath("sleep")
		if err != nil {
			t.Skip("sleep not found")
		}
		reaper := startInPIDNamespace(t, sleeper, "60")
		orphanInto(t, reaper.Process.Pid, "0.2")
		orphan := waitOrphan(t, reaper.Process.Pid)
		ok := waitFor(5*time.Second, func() bool {
			st, err := readStat(orphan.pid)
			return err == nil && st.state == "Z"
		})
		if !ok {
			t.Fatalf("orphan %d under a non-reaping PID 1 never became a zombie", orphan.pid)
		}
	})

	t.Run("pause reaps", func(t *testing.T) {
		reaper := startInPIDNamespace(t, bin)
		pid := reaper.Process.Pid
		for round := 0; round < 3; round++ {
			orphanInto(t, pid, "0.3")
			orphanInto(t, pid, "0.3")
			waitOrphan(t, pid)
			ok := waitFor(5*time.Second, func() bool { return len(childrenOf(t, pid)) == 0 })
			if !ok {
				t.Fatalf("round %d: pause (pid %d) still has children %+v", round, pid, childrenOf(t, pid))
			}
		}
		if rss := vmRSSKiB(t, pid); rss >= maxRSSKiB {
			t.Errorf("pause VmRSS = %d kB after reaping, want < %d kB", rss, maxRSSKiB)
		}
		if err := reaper.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM pause: %v", err)
		}
		if code := exitStatus(t, reaper); code != 0 {
			t.Fatalf("pause as PID 1 exited %d after SIGTERM, want 0", code)
		}
	})
}
