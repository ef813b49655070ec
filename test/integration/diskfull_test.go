package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestLogDiskFull: the pod log dir fills up. The container keeps running
// (its output is dropped, never blocking it), and logging resumes once
// space returns.
func TestLogDiskFull(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	if err := os.MkdirAll(d.LogDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", d.LogDir, "tmpfs", 0, "size=2m"); err != nil {
		t.Fatal(err)
	}
	d.start()
	ctl := filepath.Join(d.Dir, "ctl")
	d.writeManifest("chatty.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: ctl, hostPath: {path: %[2]s, type: DirectoryOrCreate}}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; echo $i > /ctl/counter; sleep 0.02; done"]
    volumeMounts: [{name: ctl, mountPath: /ctl}]
`, BusyboxImage, ctl))
	p := d.waitPod("chatty", 60*time.Second, "runs", allRunning)
	logFile := filepath.Join(d.LogDir, fmt.Sprintf("default_chatty_%s", p.UID), "app", "0.log")
	d.eventually(10*time.Second, "ticks are logged", func() error {
		if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "tick-") {
			return errors.New("no ticks yet")
		}
		return nil
	})

	filler := filepath.Join(d.LogDir, "filler")
	fillDisk(t, filler)
	counter := func() int {
		b, _ := os.ReadFile(filepath.Join(ctl, "counter"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	full := counter()
	d.eventually(10*time.Second, "the container runs on with the disk full", func() error {
		if counter() < full+50 {
			return fmt.Errorf("counter %d, was %d when the disk filled", counter(), full)
		}
		return nil
	})
	if p, err := d.pod("default", "chatty"); err != nil || allRunning(p) != nil {
		t.Fatalf("the pod is not running with the log disk full: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := counter()
	d.eventually(20*time.Second, "logging resumes once space returns", func() error {
		b, _ := os.ReadFile(logFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		last := lines[len(lines)-1]
		i := strings.LastIndex(last, "tick-")
		if i < 0 {
			return fmt.Errorf("last line %q", last)
		}
		n, _ := strconv.Atoi(last[i+5:])
		if n <= freed {
			return fmt.Errorf("last logged tick %d, space returned at %d", n, freed)
		}
		return nil
	})
}

// TestStateDirFull: minilet's state dir (--root-dir) fills up. A new pod
// cannot be made (its record cannot be written first) and says so with a
// FailedCreatePodSandBox event naming the cause; the running pod is left
// alone; once space returns, the new pod starts.
func TestStateDirFull(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	if err := os.MkdirAll(d.RootDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", d.RootDir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Fatal(err)
	}
	d.start()
	manifest := func(name string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %s
    command: ["sleep", "1000000"]
`, name, BusyboxImage)
	}
	d.writeManifest("first.yaml", manifest("first"))
	first := d.waitPod("first", 60*time.Second, "runs", allRunning)

	filler := filepath.Join(d.RootDir, "filler")
	fillDisk(t, filler)
	d.writeManifest("second.yaml", manifest("second"))
	d.waitPod("second", 30*time.Second, "listed", func(*v1.Pod) error { return nil })
	d.waitEvent("second", "FailedCreatePodSandBox", "no space left on device", 30*time.Second)
	if p, err := d.pod("default", "second"); err != nil || allRunning(p) == nil {
		t.Fatalf("the new pod runs with the state dir full (%v)", err)
	}
	now, err := d.pod("default", "first")
	if err != nil || allRunning(now) != nil {
		t.Fatalf("the running pod stopped when the state dir filled: %v", err)
	}
	if a, b := now.Status.ContainerStatuses[0], first.Status.ContainerStatuses[0]; a.ContainerID != b.ContainerID || a.RestartCount != 0 {
		t.Errorf("the running pod's container changed: %s (restarts %d), was %s", a.ContainerID, a.RestartCount, b.ContainerID)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d.waitPod("second", 60*time.Second, "runs once space returns", allRunning)
}

// fillDisk writes to path until the filesystem is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}
