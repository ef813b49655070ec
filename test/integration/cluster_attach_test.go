package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/internal/syncbuf"
)

// TestClusterAttachPortForward: kubectl attach (output from now on; -i
// into a shell made with stdin and tty) and kubectl port-forward (to a
// port the pod serves, through its network namespace) reach a pod on the
// minilet node through the API server and minilet's kubelet API; kubectl
// debug adds an ephemeral container to a running pod, which runs beside
// the others without restarting them.
func TestClusterAttachPortForward(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name)
	d.importAgnhost()
	waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	manifest := filepath.Join(t.TempDir(), "pods.yaml")
	if err := os.WriteFile(manifest, []byte(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: shell, labels: {app: attach}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: sh, image: %[1]s, command: ["sh"], stdin: true, tty: true}]
---
apiVersion: v1
kind: Pod
metadata: {name: ticker, labels: {app: attach}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: t, image: %[1]s, command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: attach}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: web, image: %[2]s, args: ["netexec", "--http-port", "8080", "--udp-port", "-1"]}]
`, BusyboxImage, AgnhostImage)), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, p, "apply", "-f", manifest)
	t.Cleanup(func() { _, _ = p.Kubectl(context.Background(), "delete", "-f", manifest, "--wait=false") })
	waitAPIPods(t, p, "app=attach", 3, 90*time.Second)

	run := func(stdin io.Reader, args ...string) (*syncbuf.Buffer, func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		cmd := exec.CommandContext(ctx, p.KubectlPath(), append([]string{"--kubeconfig=" + p.AdminKubeconfig}, args...)...)
		out := &syncbuf.Buffer{}
		cmd.Stdout, cmd.Stderr, cmd.Stdin = out, out, stdin
		// Wait must not wait for a stdin copy that never ends.
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := func() { cancel(); _ = cmd.Wait() }
		t.Cleanup(stop)
		return out, stop
	}

	// attach: the output from now on.
	out, stop := run(nil, "attach", "ticker")
	d.eventually(30*time.Second, "ticks through kubectl attach", func() error {
		if n := strings.Count(out.String(), "tick "); n < 3 {
			return fmt.Errorf("output so far %q", out.String())
		}
		return nil
	})
	stop()

	// attach -i: input into the shell's terminal.
	inR, inW := io.Pipe()
	out, stop = run(inR, "attach", "-i", "shell")
	d.eventually(30*time.Second, "the shell answering through kubectl attach -i", func() error {
		// Typed again until the session is open and the shell has read
		// it; the answer shows only once the arithmetic ran.
		go func() { _, _ = io.WriteString(inW, "echo hello-$((6*7))\n") }()
		if !strings.Contains(out.String(), "hello-42") {
			return fmt.Errorf("output so far %q", out.String())
		}
		return nil
	})
	inW.Close()
	stop()

	// kubectl debug: an ephemeral container in the running pod.
	before, _ := d.pod("default", "ticker")
	pauseBefore, _ := d.pids(before)
	kubectl(t, p, "debug", "ticker", "--image="+BusyboxImage, "-c", "dbg", "--", "sh", "-c", "echo debug-ok; sleep 3600")
	waitAPIObject(t, p, "the ephemeral container running", 60*time.Second, func(ap *v1.Pod) error {
		for _, cs := range ap.Status.EphemeralContainerStatuses {
			if cs.Name == "dbg" && cs.State.Running != nil {
				return nil
			}
		}
		return fmt.Errorf("ephemeral statuses %+v", ap.Status.EphemeralContainerStatuses)
	}, "get", "pod", "ticker")
	d.eventually(30*time.Second, "the ephemeral container's log", func() error {
		out, err := p.Kubectl(t.Context(), "logs", "ticker", "-c", "dbg")
		if err != nil || !strings.Contains(out, "debug-ok") {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	after, _ := d.pod("default", "ticker")
	pauseAfter, _ := d.pids(after)
	// (A container ID alone cannot tell: a replaced pod keeps its UID,
	// and so its containers' IDs.)
	if after.UID != before.UID || after.Status.PodIP != before.Status.PodIP || pauseAfter != pauseBefore ||
		after.Status.ContainerStatuses[0].State.Running == nil || before.Status.ContainerStatuses[0].State.Running == nil ||
		!after.Status.ContainerStatuses[0].State.Running.StartedAt.Equal(&before.Status.ContainerStatuses[0].State.Running.StartedAt) {
		t.Errorf("kubectl debug restarted the pod: IP %s pause %d %+v, was IP %s pause %d %+v", after.Status.PodIP, pauseAfter, after.Status.ContainerStatuses[0].State,
			before.Status.PodIP, pauseBefore, before.Status.ContainerStatuses[0].State)
	}

	// port-forward: a local port to the pod's 8080.
	out, stop = run(nil, "port-forward", "pod/web", ":8080")
	defer stop()
	var local string
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)
	d.eventually(30*time.Second, "kubectl port-forward listening", func() error {
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			return fmt.Errorf("output so far %q", out.String())
		}
		local = m[1]
		return nil
	})
	for i := range 3 { // one connection each
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/echo?msg=through-%d", local, i))
		if err != nil {
			t.Fatalf("through the forward: %v; kubectl: %s", err, out.String())
		}
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		resp.Body.Close()
		if string(b) != fmt.Sprintf("through-%d", i) {
			t.Fatalf("answer %q", b)
		}
	}
	if logs := kubectl(t, p, "logs", "web"); !strings.Contains(logs, "GET /echo?msg=through-2") {
		t.Errorf("the pod did not log the forwarded requests: %q", logs)
	}
}
