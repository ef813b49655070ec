package integration

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/minilet/minilet/internal/syncbuf"
	"github.com/minilet/minilet/pkg/server"
)

// ephemeralStatus is the status of the ephemeral container name.
func ephemeralStatus(p *v1.Pod, name string) *v1.ContainerStatus {
	for i := range p.Status.EphemeralContainerStatuses {
		if p.Status.EphemeralContainerStatuses[i].Name == name {
			return &p.Status.EphemeralContainerStatuses[i]
		}
	}
	return nil
}

// TestDebug: `minilet debug` adds ephemeral containers to a running pod,
// as kubectl debug through the ephemeralcontainers subresource. With
// --target one shares the target container's PID namespace (it sees its
// processes) and the pod's network; without, it has its own PID
// namespace. Each runs once, is never restarted, shows under
// ephemeralContainerStatuses, has logs, takes exec, and survives a
// SIGKILL of the daemon (adopted, same process).
func TestDebug(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("web.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %s
    command: ["sleep", "424242"]
`, BusyboxImage))
	web := d.waitPod("web", 60*time.Second, "runs", allRunning)
	pause, byName := d.pids(web)

	if out, err := d.cliErr("debug", "web", "--image", BusyboxImage, "--target", "app", "-c", "dbg", "--",
		"sh", "-c", "ps; sleep 3600"); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("debug: %v %q", err, out)
	}
	p := d.waitPod("web", 60*time.Second, "the debug container runs", func(p *v1.Pod) error {
		cs := ephemeralStatus(p, "dbg")
		if cs == nil || cs.State.Running == nil {
			return fmt.Errorf("ephemeral statuses %+v", p.Status.EphemeralContainerStatuses)
		}
		return nil
	})
	_, byName2 := d.pids(p)
	dbg := byName2["dbg"]
	if dbg == 0 {
		t.Fatalf("no process for dbg: %v", byName2)
	}
	if nsInode(t, dbg, "pid") != nsInode(t, byName["app"], "pid") {
		t.Error("the debug container does not share its target's PID namespace")
	}
	if nsInode(t, dbg, "net") != nsInode(t, pause, "net") || nsInode(t, dbg, "uts") != nsInode(t, pause, "uts") {
		t.Error("the debug container is not in the pod's network and UTS namespaces")
	}
	d.eventually(20*time.Second, "the debug container's ps lists the target's process", func() error {
		if out := d.cli("logs", "web", "-c", "dbg"); !strings.Contains(out, "sleep 424242") {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	if out := d.cli("exec", "web", "-c", "dbg", "--", "cat", "/proc/1/cmdline"); !strings.Contains(out, "sleep") {
		t.Errorf("exec in the debug container: PID 1 is %q, want the target's sleep", out)
	}
	if len(p.Status.ContainerStatuses) != 1 || p.Status.Phase != v1.PodRunning {
		t.Errorf("the pod's own containers changed: %s %+v", p.Status.Phase, p.Status.ContainerStatuses)
	}

	// Without a target: its own PID namespace; when it ends it stays ended.
	// ($$ is the Kubernetes escape of $ in a command.)
	d.cli("debug", "web", "--image", BusyboxImage, "-c", "once", "--", "sh", "-c", "echo pid1=$$$$; exit 3")
	d.waitPod("web", 60*time.Second, "the second debug container ends, exit 3", func(p *v1.Pod) error {
		cs := ephemeralStatus(p, "once")
		if cs == nil || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 3 || cs.RestartCount != 0 {
			return fmt.Errorf("status %+v", cs)
		}
		return nil
	})
	if out := d.cli("logs", "web", "-c", "once"); !strings.Contains(out, "pid1=1") {
		t.Errorf("without --target the debug container should be PID 1 of its own namespace: %q", out)
	}

	// Refusals, with the API server's words.
	if out, err := d.cliErr("debug", "web", "--image", BusyboxImage, "--target", "nope", "-c", "bad"); err == nil ||
		!strings.Contains(out, `spec.ephemeralContainers[2].targetContainerName: Not found: "nope"`) {
		t.Errorf("unknown target: %v %q", err, out)
	}
	if out, err := d.cliErr("debug", "web", "--image", BusyboxImage, "-c", "dbg"); err == nil || !strings.Contains(out, `a container named "dbg" already exists in pod web`) {
		t.Errorf("a name taken: %v %q", err, out)
	}

	// A SIGKILLed daemon adopts the debug container as it is.
	d.signal(syscall.SIGKILL)
	d.start()
	d.waitPod("web", 30*time.Second, "adopted with its debug containers", func(p *v1.Pod) error {
		cs, once := ephemeralStatus(p, "dbg"), ephemeralStatus(p, "once")
		if cs == nil || cs.State.Running == nil || once == nil || once.State.Terminated == nil {
			return fmt.Errorf("ephemeral statuses %+v", p.Status.EphemeralContainerStatuses)
		}
		return nil
	})
	if _, after := d.pids(p); after["dbg"] != dbg {
		t.Errorf("the debug container's process changed across a daemon restart: %d, was %d", after["dbg"], dbg)
	}
	if _, after := d.pids(p); after["once"] != 0 {
		t.Error("the ended debug container was started again")
	}
}

// sizeQueue gives one terminal size.
type sizeQueue struct{ sent bool }

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if q.sent {
		select {} // no further size: the session's end stops the reader
	}
	q.sent = true
	return &remotecommand.TerminalSize{Width: 77, Height: 33}
}

// TestAttachStdin: a container with stdin: true and tty: true takes what
// attach -i sends into its terminal, at the client's terminal size; its
// stdin stays open while minilet is SIGKILLed and started again (the log
// driver holds it), so the same shell takes a second session's input.
// `minilet debug -i` attaches to its container as kubectl debug -i does.
func TestAttachStdin(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("shell.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: %s
    command: ["sh"]
    stdin: true
    tty: true
`, BusyboxImage))
	p := d.waitPod("shell", 60*time.Second, "runs", allRunning)
	_, before := d.pids(p)

	session := func(input string, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		inR, inW := io.Pipe()
		out := &syncbuf.Buffer{}
		done := make(chan error, 1)
		go func() {
			done <- d.Client.Attach(ctx, "default", "shell", server.StreamOptions{Container: "sh", Stdin: inR, Stdout: out, TTY: true, Sizes: &sizeQueue{}})
		}()
		d.eventually(20*time.Second, fmt.Sprintf("the shell answers %q", want), func() error {
			// Typed again until the session is open and the shell
			// has read it; the answer shows only once.
			if _, err := io.WriteString(inW, input); err != nil {
				return err
			}
			if !strings.Contains(out.String(), want) {
				return fmt.Errorf("output so far %q", out.String())
			}
			return nil
		})
		cancel()
		inW.Close()
		<-done
	}
	session("echo hello-$((6*7))\n", "hello-42")
	session("stty size\n", "33 77")

	d.signal(syscall.SIGKILL)
	d.start()
	d.waitPod("shell", 30*time.Second, "adopted", allRunning)
	session("echo again-$((5+5))\n", "again-10")
	if _, after := d.pids(p); after["sh"] != before["sh"] {
		t.Fatalf("the shell changed: %d, was %d", after["sh"], before["sh"])
	}

	// debug -i: the debug container takes the input and exits with it.
	d.writeManifest("web.yaml", sleeperPod("web", ""))
	d.waitPod("web", 60*time.Second, "runs", allRunning)
	cmd := exec.Command(env.minilet, "--run-dir", d.RunDir, "debug", "web", "-i", "-t", "--image", BusyboxImage, "--target", "main", "-c", "dbg")
	cmd.Stdin = strings.NewReader("ps; exit 0\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sleep 3600") {
		t.Fatalf("debug -it: %v\n%s", err, out)
	}
	// A container without stdin refuses input.
	if out, err := d.cliErr("attach", "-i", "web", "-c", "main"); err == nil || !strings.Contains(out, `container "main" in pod "web" was not started with stdin: true`) {
		t.Errorf("attach -i to a container without stdin: %v %q", err, out)
	}
	// Removed as any pod: its stdin and log driver do not hold it.
	d.removeManifest("shell.yaml")
	d.removeManifest("web.yaml")
	d.waitGone("shell", 30*time.Second)
	d.waitGone("web", 30*time.Second)
}
