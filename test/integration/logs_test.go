package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// criLine is the CRI log format: <RFC3339Nano> <stdout|stderr> <F|P> <text>.
var criLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) [FP] .*$`)

// TestContainerLogs: output reaches the pod log dir in the CRI format,
// through the shim's log driver, so lines written while minilet is stopped
// are kept; `minilet logs` shows them, with --previous after a restart.
func TestContainerLogs(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("talk.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: ctl, hostPath: {path: %[2]s, type: DirectoryOrCreate}}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "echo out-$(cat /ctl/round 2>/dev/null); echo err >&2; while [ ! -f /ctl/next ]; do sleep 0.05; done; rm /ctl/next; echo after-$(cat /ctl/round); exit 1"]
    volumeMounts: [{name: ctl, mountPath: /ctl}]
`, BusyboxImage, filepath.Join(d.Dir, "ctl")))
	p := d.waitPod("talk", 60*time.Second, "runs", allRunning)
	file := filepath.Join(d.LogDir, fmt.Sprintf("default_talk_%s", p.UID), "app", "0.log")
	d.eventually(10*time.Second, "both streams are logged", func() error {
		b, _ := os.ReadFile(file)
		if !strings.Contains(string(b), " stdout F out-") || !strings.Contains(string(b), " stderr F err") {
			return fmt.Errorf("log: %q", b)
		}
		return nil
	})

	// The shim runs the small log driver, not a whole minilet.
	if rss := logDriverRSS(t, file); rss == 0 || rss > 1024 {
		t.Errorf("log driver for %s: RSS %d KiB, want the small C minilet-log-driver (< 1 MiB)", file, rss)
	}

	// The daemon is down while the container writes.
	d.signal(syscall.SIGTERM)
	if err := os.WriteFile(filepath.Join(d.Dir, "ctl", "round"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "ctl", "next"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.eventually(10*time.Second, "the line written while minilet was down is logged", func() error {
		b, _ := os.ReadFile(file)
		if !strings.Contains(string(b), "stdout F after-1") {
			return fmt.Errorf("log: %q", b)
		}
		return nil
	})
	d.start()
	b, _ := os.ReadFile(file)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !criLine.MatchString(line) {
			t.Errorf("not a CRI log line: %q", line)
		}
	}
	d.waitPod("talk", 60*time.Second, "restarted", func(p *v1.Pod) error {
		if p.Status.ContainerStatuses[0].RestartCount < 1 {
			return fmt.Errorf("no restart yet")
		}
		return nil
	})
	cur := d.cli("logs", "talk")
	prev := d.cli("logs", "talk", "--previous")
	if !strings.Contains(cur, "out-1") || !strings.Contains(prev, "after-1") || !strings.Contains(prev, "out-\n") {
		t.Errorf("minilet logs:\ncurrent: %q\nprevious: %q", cur, prev)
	}
	if ts := d.cli("logs", "talk", "--previous", "--timestamps", "--tail", "1"); !criTimestamped(ts, "after-1") {
		t.Errorf("--timestamps --tail 1: %q", ts)
	}
}

func criTimestamped(out, text string) bool {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		return false
	}
	ts, rest, ok := strings.Cut(lines[0], " ")
	_, err := time.Parse(time.RFC3339Nano, ts)
	return ok && err == nil && rest == text
}

// cli runs a minilet client command against the daemon and returns stdout.
func (d *daemon) cli(args ...string) string {
	d.t.Helper()
	cmd := exec.Command(env.minilet, append([]string{"--run-dir", d.RunDir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		d.t.Fatalf("minilet %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// logDriverRSS finds the log driver writing file and returns its RSS in KiB.
func logDriverRSS(t *testing.T, file string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !strings.HasSuffix(args[0], "/minilet-log-driver") || !strings.Contains(string(b), file) {
			continue
		}
		st, _ := os.ReadFile("/proc/" + e.Name() + "/status")
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				n := 0
				fmt.Sscan(strings.Fields(line)[1], &n)
				return n
			}
		}
	}
	return 0
}

// TestOldAttemptLogsRemoved: a crash-looping container keeps the logs of
// its current and previous attempts only; older ones go with their
// containers, as the kubelet removes them, so a container that restarts
// for days does not fill the disk with one log per restart.
func TestOldAttemptLogsRemoved(t *testing.T) {
	d := startDaemon(t) // back-off capped at 2 s
	d.writeManifest("crashy.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: crashy}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "echo attempt; exit 1"]
`, BusyboxImage))
	var restarts int32
	p := d.waitPod("crashy", 90*time.Second, "restarted 4 times", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 {
			return fmt.Errorf("no status")
		}
		if restarts = p.Status.ContainerStatuses[0].RestartCount; restarts < 4 {
			return fmt.Errorf("restartCount %d", restarts)
		}
		return nil
	})
	dir := filepath.Join(d.LogDir, fmt.Sprintf("default_crashy_%s", p.UID), "app")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		var attempt int32
		if n, err := fmt.Sscanf(e.Name(), "%d.log", &attempt); err != nil || n != 1 {
			t.Errorf("unexpected file %s", e.Name())
			continue
		}
		if attempt < restarts-1 {
			t.Errorf("log of attempt %d kept at restartCount %d", attempt, restarts)
		}
	}
	if len(names) < 2 {
		t.Errorf("logs %q: want the current and the previous attempt's", names)
	}
	if prev := d.cli("logs", "crashy", "--previous"); !strings.Contains(prev, "attempt") {
		t.Errorf("logs --previous: %q", prev)
	}

	// The kubelet's /var/log/containers links, which log shippers tail:
	// one per kept log, none dangling; gone with the pod.
	links := func() map[string]string {
		out := map[string]string{}
		ents, _ := os.ReadDir(d.LinkDir)
		for _, e := range ents {
			if target, err := os.Readlink(filepath.Join(d.LinkDir, e.Name())); err == nil {
				out[e.Name()] = target
			}
		}
		return out
	}
	d.eventually(10*time.Second, "a link per kept log", func() error {
		ls := links()
		if len(ls) < 2 {
			return fmt.Errorf("links %v", ls)
		}
		for name, target := range ls {
			if !strings.HasPrefix(name, "crashy_default_app-") || !strings.HasPrefix(target, dir+"/") {
				return fmt.Errorf("link %s → %s", name, target)
			}
			if _, err := os.Stat(target); err != nil {
				return fmt.Errorf("dangling link %s: %v", name, err)
			}
		}
		return nil
	})
	d.removeManifest("crashy.yaml")
	d.waitGone("crashy", 60*time.Second)
	if ls := links(); len(ls) != 0 {
		t.Errorf("links left after the pod was removed: %v", ls)
	}
}
