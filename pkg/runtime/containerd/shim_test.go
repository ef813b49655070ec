package containerd

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
)

// A process that looks like a shim of this containerd, namespace and group
// (its command line) is ended; one of another group is not.
func TestEndGroupEndsOnlyTheGroupsShim(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	r := &Runtime{opts: Options{Address: "/tmp/test-containerd.sock", Namespace: "ns1"}, log: zap.NewNop()}
	start := func(group string) *exec.Cmd {
		// argv[0] "containerd-shim-runc-v2", then the shim's flags; the
		// script ignores its arguments and waits.
		cmd := exec.Command("bash", "-c", `exec -a containerd-shim-runc-v2 bash -c 'sleep 100; :' -namespace ns1 -id `+group+` -address /tmp/test-containerd.sock`)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
		return cmd
	}
	mine, other := start("abc-pod.1a2b"), start("def-pod.3c4d")
	deadline := time.Now().Add(5 * time.Second)
	for {
		shims, _ := r.shimsOf("abc-")
		if len(shims) == 1 && shims[mine.Process.Pid] == "abc-pod.1a2b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shim of abc-pod.1a2b not found: %v", shims)
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { _ = mine.Wait(); close(done) }()
	if err := r.EndGroups(context.Background(), "abc-"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the group's shim still runs")
	}
	if !processAlive(other.Process.Pid) {
		t.Fatal("the shim of another group was ended")
	}
}
