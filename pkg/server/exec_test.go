package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/minilet/minilet/pkg/runtime"
)

// execSource is a PodSource and an Executor whose commands are Go
// functions keyed by their first word.
type execSource struct {
	pods []v1.Pod

	mu    sync.Mutex
	ids   []string   // container IDs asked for
	ended chan error // the ctx error of each command that ran
	sizes []runtime.TerminalSize
}

func (s *execSource) Pods() []v1.Pod                   { return s.pods }
func (s *execSource) Events(string, string) []v1.Event { return nil }

func (s *execSource) ExecStream(ctx context.Context, id string, cmd []string, es runtime.ExecStreams) (int32, error) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
	defer func() { s.ended <- ctx.Err() }()
	switch cmd[0] {
	case "cat": // stdin to stdout, then "done" to stderr
		if _, err := io.Copy(es.Stdout, es.Stdin); err != nil {
			return -1, err
		}
		fmt.Fprint(es.Stderr, "done")
		return 0, nil
	case "exit":
		var code int32
		fmt.Sscan(cmd[1], &code)
		return code, nil
	case "fail":
		return -1, errors.New("runc: exec failed: no such file")
	case "hang": // until the client goes
		<-ctx.Done()
		return -1, ctx.Err()
	case "size": // the terminal's sizes, until "." on stdin
		for {
			select {
			case sz := <-es.Resize:
				fmt.Fprintf(es.Stdout, "%dx%d\n", sz.Width, sz.Height)
			case <-ctx.Done():
				return -1, ctx.Err()
			}
		}
	}
	return 127, nil
}

func execPods() []v1.Pod {
	status := func(name string, st v1.ContainerState, id string) v1.ContainerStatus {
		return v1.ContainerStatus{Name: name, State: st, ContainerID: id}
	}
	return []v1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}},
			Status: v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: []v1.ContainerStatus{
				status("app", running(), "containerd://web-uid-app-2")}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "two", Namespace: "default"},
			Spec: v1.PodSpec{Containers: []v1.Container{{Name: "a"}, {Name: "b"}}},
			Status: v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: []v1.ContainerStatus{
				status("a", running(), "containerd://two-a-0"),
				status("b", v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}, "")}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: "default"},
			Spec:   v1.PodSpec{Containers: []v1.Container{{Name: "app"}}},
			Status: v1.PodStatus{Phase: v1.PodSucceeded}},
	}
}

func startExec(t *testing.T) (*Client, *execSource) {
	t.Helper()
	src := &execSource{pods: execPods(), ended: make(chan error, 10)}
	return NewClient(startServer(t, src, nil)), src
}

func TestExecStreams(t *testing.T) {
	c, src := startExec(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	err := c.Exec(ctx, "default", "web", StreamOptions{Command: []string{"cat"}, Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("exec cat: %v", err)
	}
	// stdin's end reached the command (v5's half-close), or cat would
	// never have returned.
	if out.String() != "hello\nworld\n" || errOut.String() != "done" {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if src.ids[0] != "web-uid-app-2" {
		t.Fatalf("ran in %q, want the running instance web-uid-app-2", src.ids[0])
	}
	<-src.ended
	err = c.Exec(ctx, "default", "web", StreamOptions{Command: []string{"exit", "3"}, Stdout: io.Discard})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("exit 3: %v, want an ExitError with code 3", err)
	}
	<-src.ended
	err = c.Exec(ctx, "default", "web", StreamOptions{Command: []string{"fail"}, Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "runc: exec failed: no such file") {
		t.Fatalf("a runtime failure: %v, want its message", err)
	}
}

func TestExecRefusals(t *testing.T) {
	c, src := startExec(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pod, container string
		cmd            []string
		want           string
	}{
		{"nope", "", []string{"true"}, `pods "nope" not found`},
		{"two", "", []string{"true"}, "a container name must be specified for pod two, choose one of: [a b]"},
		{"two", "c", []string{"true"}, "container c is not valid for pod two"},
		{"two", "b", []string{"true"}, `container "b" in pod "two" is not running (waiting: CrashLoopBackOff)`},
		{"done", "", []string{"true"}, "cannot exec into or attach to a container in a completed pod; current phase is Succeeded"},
		{"web", "", nil, "you must specify at least 1 command"},
	} {
		err := c.Exec(ctx, "default", tc.pod, StreamOptions{Container: tc.container, Command: tc.cmd, Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("exec in %s/%s: %v, want %q", tc.pod, tc.container, err, tc.want)
		}
	}
	if len(src.ids) != 0 {
		t.Fatalf("commands ran: %v", src.ids)
	}
	err := c.Attach(ctx, "default", "web", StreamOptions{Stdin: strings.NewReader(""), Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "was not started with stdin: true") {
		t.Fatalf("attach -i: %v, want a refusal", err)
	}
}

// TestExecClientGone: the command of a client that goes away is ended, not
// left running as the kubelet leaves it.
func TestExecClientGone(t *testing.T) {
	c, src := startExec(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Exec(ctx, "default", "web", StreamOptions{Command: []string{"hang"}, Stdout: io.Discard})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		src.mu.Lock()
		n := len(src.ids)
		src.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	select {
	case err := <-src.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("command ended with %v, want its context cancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command still runs 10 s after its client went away")
	}
}

// sizeQueue hands out sizes, then blocks until closed.
type sizeQueue struct {
	ch chan remotecommand.TerminalSize
}

func (q sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q.ch
	if !ok {
		return nil
	}
	return &s
}

func TestExecTerminalSizes(t *testing.T) {
	c, _ := startExec(t)
	q := sizeQueue{ch: make(chan remotecommand.TerminalSize, 2)}
	q.ch <- remotecommand.TerminalSize{Width: 80, Height: 24}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.Exec(ctx, "default", "web", StreamOptions{Command: []string{"size"}, Stdin: strings.NewReader(""), Stdout: pw, TTY: true, Sizes: q})
	}()
	buf := make([]byte, 64)
	read := func() string {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "80x24\n" {
		t.Fatalf("first size %q", got)
	}
	q.ch <- remotecommand.TerminalSize{Width: 120, Height: 40}
	if got := read(); got != "120x40\n" {
		t.Fatalf("resize %q", got)
	}
	cancel()
	<-done
}
