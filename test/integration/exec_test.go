package integration

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExec: `minilet exec` runs a command inside the pod's namespaces with
// stdin, stdout and stderr apart, exits with the command's code, gives a
// terminal of the user's size with -it, and ends the command when the
// client is killed.
func TestExec(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("shell.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: %[1]s
    command: ["sleep", "3600"]
  - name: side
    image: %[1]s
    command: ["sleep", "3600"]
`, BusyboxImage))
	p := d.waitPod("shell", 60*time.Second, "runs", allRunning)
	pause, _ := d.pids(p)

	// Namespaces: the command sees the pod's network and UTS namespaces.
	out := d.cli("exec", "shell", "-c", "main", "--", "sh", "-c", "readlink /proc/self/ns/net; hostname")
	lines := strings.Fields(out)
	if len(lines) != 2 || lines[0] != nsInode(t, pause, "net") || lines[1] != "shell" {
		t.Fatalf("exec sees %q, want the pod's net namespace %s and hostname shell", out, nsInode(t, pause, "net"))
	}

	// Streams apart, the exit code, kubectl's message; the defaulted
	// container is said on stderr.
	cmd := exec.Command(env.minilet, "exec", "shell", "--run-dir", d.RunDir, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v, want exit code 3 (stderr %q)", err, stderr.String())
	}
	if stdout.String() != "to-out\n" || !strings.Contains(stderr.String(), "to-err\n") ||
		!strings.Contains(stderr.String(), "command terminated with exit code 3") ||
		!strings.Contains(stderr.String(), `Defaulted container "main" out of: main, side`) {
		t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}

	// stdin, to its end: cat returns only if the end of stdin reached it.
	cmd = exec.Command(env.minilet, "exec", "-i", "shell", "-c", "side", "--run-dir", d.RunDir, "--", "sh", "-c", "cat | wc -l")
	cmd.Stdin = strings.NewReader(strings.Repeat("line\n", 1000))
	b, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(b)) != "1000" {
		t.Fatalf("exec -i: %v, out %q, want 1000 lines counted", err, b)
	}

	// -it under a terminal of 40x100: the command gets a terminal of that
	// size (script(1) gives minilet a pseudo-terminal).
	cmd = exec.Command("script", "-qec", fmt.Sprintf("stty cols 100 rows 40; %s exec -it shell -c main --run-dir %s -- sh -c 'tty; stty size'", env.minilet, d.RunDir), "/dev/null")
	// The user's terminal stays open until the command ends: an input
	// that ends hangs the terminal up (the shim closes the console), and
	// the command could lose it before it printed its size.
	keepOpen, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer keepOpen.Close()
	b, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "/dev/pts/") || !strings.Contains(string(b), "40 100") {
		t.Fatalf("exec -it: %v, out %q, want a /dev/pts terminal of 40 rows, 100 columns", err, b)
	}

	// A refused exec names what is wrong.
	if out, err := d.cliErr("exec", "shell", "-c", "nope", "--", "true"); err == nil || !strings.Contains(out, "container nope is not valid for pod shell") {
		t.Fatalf("exec -c nope: %v, %q", err, out)
	}
	if out, err := d.cliErr("exec", "shell", "true"); err == nil || !strings.Contains(out, "use exec [POD] -- [COMMAND]") {
		t.Fatalf("exec without --: %v, %q", err, out)
	}

	// The client killed: its command goes too.
	cmd = exec.Command(env.minilet, "exec", "shell", "-c", "main", "--run-dir", d.RunDir, "--", "sh", "-c", "echo started; exec sleep 4242")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(pipe).ReadString('\n'); err != nil || line != "started\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if findProcess("sleep 4242") == 0 {
		t.Fatal("the exec'd sleep is not running")
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	d.eventually(20*time.Second, "the command of a killed client ends", func() error {
		if pid := findProcess("sleep 4242"); pid != 0 {
			return fmt.Errorf("sleep 4242 still runs as pid %d", pid)
		}
		return nil
	})
}

// TestAttach: `minilet attach` streams what the container writes from now
// on, stdout and stderr apart, and ends when the container stops.
func TestAttach(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("ticker.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "i=0; while [ ! -f /tmp/stop ]; do echo tick $i; echo tock $i >&2; i=$((i+1)); sleep 0.1; done"]
`, BusyboxImage))
	d.waitPod("ticker", 60*time.Second, "runs", allRunning)
	d.eventually(20*time.Second, "a few ticks are logged", func() error {
		if n := strings.Count(d.cli("logs", "ticker"), "tick"); n < 5 {
			return fmt.Errorf("%d ticks", n)
		}
		return nil
	})
	before := lastTick(d.cli("logs", "ticker"))
	cmd := exec.Command(env.minilet, "attach", "ticker", "--run-dir", d.RunDir)
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(outPipe).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "tick ") {
		t.Fatalf("first attached line %q, %v", first, err)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(first, "tick "))); n <= before {
		t.Fatalf("attach began at %q, but tick %d was logged before it started: it must stream from now on", first, before)
	}
	// The container stops: attach ends by itself, with exit code 0.
	d.cli("exec", "ticker", "--", "touch", "/tmp/stop")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("attach: %v (stderr %q)", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("attach still runs 30 s after its container stopped")
	}
	if !strings.Contains(stderr.String(), "tock ") {
		t.Fatalf("stderr %q, want the container's stderr lines", stderr.String())
	}
	if out, err := d.cliErr("attach", "-i", "ticker"); err == nil || !strings.Contains(out, "cannot exec into or attach to a container in a completed pod") && !strings.Contains(out, "has no stdin") {
		t.Fatalf("attach -i: %v, %q", err, out)
	}
}

func lastTick(log string) int {
	n := -1
	for _, l := range strings.Split(log, "\n") {
		if v, err := strconv.Atoi(strings.TrimPrefix(l, "tick ")); err == nil && strings.HasPrefix(l, "tick ") {
			n = v
		}
	}
	return n
}

// findProcess returns the PID of a process whose command line is cmdline
// (arguments joined by spaces), or 0.
func findProcess(cmdline string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Join(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), " ") == cmdline {
			return pid
		}
	}
	return 0
}
