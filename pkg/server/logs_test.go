package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// logSource is a PodSource and LogLocator over log files in a directory.
type logSource struct {
	pods []v1.Pod
	dir  string

	mu      sync.Mutex
	running map[string]bool // "pod/container": the current instance runs
	calls   int
}

func (s *logSource) Pods() []v1.Pod                   { return s.pods }
func (s *logSource) Events(string, string) []v1.Event { return nil }

// ContainerLog finds <dir>/<ns>_<pod>/<container>/<0|1>.log: 1 is the
// current instance, 0 the previous one.
func (s *logSource) ContainerLog(ns, pod, container string, previous bool) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	n, running := 1, s.running[pod+"/"+container]
	if previous {
		n, running = 0, false
	}
	return filepath.Join(s.dir, ns+"_"+pod, container, fmt.Sprintf("%d.log", n)), running, nil
}

func (s *logSource) setRunning(key string, running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[key] = running
}

// writeCRILog writes lines as stdout records, a second apart from
// 2025-03-01T10:00:00Z.
func writeCRILog(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	fi, _ := f.Stat()
	for i, l := range lines {
		ts := base.Add(time.Duration(fi.Size()+int64(i)) * time.Second).Format(time.RFC3339Nano)
		if _, err := fmt.Fprintf(f, "%s stdout F %s\n", ts, l); err != nil {
			t.Fatal(err)
		}
	}
}

func running() v1.ContainerState {
	return v1.ContainerState{Running: &v1.ContainerStateRunning{}}
}

func newLogSource(t *testing.T) *logSource {
	t.Helper()
	pod := func(name string, init []string, names []string, statuses ...v1.ContainerStatus) v1.Pod {
		p := testPod("default", name)
		for _, n := range init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: n})
		}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: n})
		}
		p.Status.ContainerStatuses = statuses
		return p
	}
	terminated := v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 1}}
	s := &logSource{
		dir: t.TempDir(),
		pods: []v1.Pod{
			pod("web", nil, []string{"app"}, v1.ContainerStatus{Name: "app", State: running(), LastTerminationState: terminated, RestartCount: 1}),
			pod("multi", nil, []string{"a", "b"}, v1.ContainerStatus{Name: "a", State: running()}, v1.ContainerStatus{Name: "b", State: running()}),
			pod("withinit", []string{"setup"}, []string{"a", "b"}),
			pod("waiting", nil, []string{"app"}, v1.ContainerStatus{Name: "app", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}}),
			pod("pulling", nil, []string{"app"}, v1.ContainerStatus{Name: "app", State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}),
			pod("fresh", nil, []string{"app"}, v1.ContainerStatus{Name: "app", State: running()}),
			pod("nostatus", nil, []string{"app"}),
			pod("nofile", nil, []string{"app"}, v1.ContainerStatus{Name: "app", State: running()}),
		},
		running: map[string]bool{"web/app": true, "multi/a": true, "multi/b": true, "fresh/app": true},
	}
	writeCRILog(t, filepath.Join(s.dir, "default_web", "app", "0.log"), "previous one", "previous two")
	writeCRILog(t, filepath.Join(s.dir, "default_web", "app", "1.log"), "one", "two", "three")
	writeCRILog(t, filepath.Join(s.dir, "default_multi", "b", "1.log"), "from b")
	writeCRILog(t, filepath.Join(s.dir, "default_fresh", "app", "1.log"), "hi")
	return s
}

func TestLogs(t *testing.T) {
	src := newLogSource(t)
	c := NewClient(startServer(t, src, nil))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		pod  string
		opts LogOptions
		want string
	}{
		{"single container by default", "web", LogOptions{TailLines: AllLines}, "one\ntwo\nthree\n"},
		{"named container", "multi", LogOptions{Container: "b", TailLines: AllLines}, "from b\n"},
		{"previous", "web", LogOptions{Previous: true, TailLines: AllLines}, "previous one\nprevious two\n"},
		{"tail", "web", LogOptions{TailLines: 2}, "two\nthree\n"},
		{"tail 0", "web", LogOptions{TailLines: 0}, ""},
		{"timestamps", "web", LogOptions{TailLines: 1, Timestamps: true}, "2025-03-01T10:00:02Z three\n"},
		{"since time", "web", LogOptions{TailLines: AllLines, SinceTime: time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC)}, "two\nthree\n"},
		{"since seconds", "web", LogOptions{TailLines: AllLines, SinceSeconds: 1}, ""},
		{"following a previous instance ends", "web", LogOptions{Previous: true, Follow: true, TailLines: AllLines}, "previous one\nprevious two\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := c.Logs(ctx, "default", tc.pod, tc.opts, &b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Fatalf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestLogsErrors(t *testing.T) {
	c := NewClient(startServer(t, newLogSource(t), nil))
	ctx := context.Background()
	for _, tc := range []struct {
		pod  string
		opts LogOptions
		want string
	}{
		{"multi", LogOptions{}, "a container name must be specified for pod multi, choose one of: [a b]"},
		{"withinit", LogOptions{}, "a container name must be specified for pod withinit, choose one of: [setup a b]"},
		{"web", LogOptions{Container: "nope"}, "container nope is not valid for pod web"},
		{"multi", LogOptions{Container: "a", Previous: true}, `previous terminated container "a" in pod "multi" not found`},
		{"waiting", LogOptions{}, `container "app" in pod "waiting" is waiting to start: ContainerCreating`},
		{"pulling", LogOptions{}, `container "app" in pod "pulling" is waiting to start: trying and failing to pull image`},
		{"nostatus", LogOptions{}, `container "app" in pod "nostatus" is not available`},
		{"nofile", LogOptions{}, `container "app" in pod "nofile" has no log file`},
	} {
		err := c.Logs(ctx, "default", tc.pod, tc.opts, &strings.Builder{})
		if Reason(err) != metav1.StatusReasonBadRequest || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v (%s), want BadRequest %q", tc.pod, tc.opts, err, Reason(err), tc.want)
		}
	}
	if err := c.Logs(ctx, "default", "gone", LogOptions{}, &strings.Builder{}); !IsNotFound(err) || err.Error() != `pods "gone" not found` {
		t.Errorf("missing pod: %v", err)
	}
	for _, q := range []string{"tailLines=-1", "tailLines=x", "sinceSeconds=0", "sinceSeconds=5&sinceTime=2025-03-01T10:00:00Z", "sinceTime=yesterday", "follow=maybe"} {
		_, err := c.get(ctx, "/api/v1/namespaces/default/pods/web/log?"+q)
		if Reason(err) != metav1.StatusReasonBadRequest {
			t.Errorf("%s: %v, want BadRequest", q, err)
		}
	}
}

func TestLogsWithoutLocator(t *testing.T) {
	src := &fakeSource{pods: newLogSource(t).pods}
	c := NewClient(startServer(t, src, nil))
	err := c.Logs(context.Background(), "default", "web", LogOptions{}, &strings.Builder{})
	if Reason(err) != metav1.StatusReasonServiceUnavailable {
		t.Fatalf("err = %v, want ServiceUnavailable", err)
	}
}

// syncBuilder is a strings.Builder safe to poll while Logs writes.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Logs did not return")
		return nil
	}
}

// TestLogsFollow follows a running container's log and stops when the
// container stops.
func TestLogsFollow(t *testing.T) {
	src := newLogSource(t)
	c := NewClient(startServer(t, src, nil))
	path := filepath.Join(src.dir, "default_fresh", "app", "1.log")
	var out syncBuilder
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(context.Background(), "default", "fresh", LogOptions{Follow: true, TailLines: AllLines}, &out)
	}()
	waitFor(t, "the first line", func() bool { return out.String() == "hi\n" })
	writeCRILog(t, path, "more")
	waitFor(t, "an appended line", func() bool { return out.String() == "hi\nmore\n" })
	writeCRILog(t, path, "last words")
	src.setRunning("fresh/app", false)
	if err := waitErr(t, done); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "hi\nmore\nlast words\n" {
		t.Fatalf("got %q", got)
	}
}

// TestLogsFollowCancel stops following when the client goes away.
func TestLogsFollowCancel(t *testing.T) {
	src := newLogSource(t)
	c := NewClient(startServer(t, src, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuilder
	done := make(chan error, 1)
	go func() { done <- c.Logs(ctx, "default", "web", LogOptions{Follow: true, TailLines: 1}, &out) }()
	waitFor(t, "the tail", func() bool { return out.String() == "three\n" })
	cancel()
	if err := waitErr(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The server's cleanup checks that the handler ended.
}

// TestLogsFollowOutlivesServerTimeouts follows a log for longer than the
// server's read and write timeouts.
func TestLogsFollowOutlivesServerTimeouts(t *testing.T) {
	src := newLogSource(t)
	dir := t.TempDir()
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 100 * time.Millisecond
	srv := &http.Server{Handler: newFor(src, nil).Handler(), ReadTimeout: timeout, WriteTimeout: timeout}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	c := NewClient(dir)
	var out syncBuilder
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(context.Background(), "default", "fresh", LogOptions{Follow: true, TailLines: AllLines}, &out)
	}()
	waitFor(t, "the first line", func() bool { return out.String() == "hi\n" })
	<-time.After(3 * timeout) // let the server's deadlines pass
	writeCRILog(t, filepath.Join(src.dir, "default_fresh", "app", "1.log"), "later")
	waitFor(t, "a line after the timeouts", func() bool { return out.String() == "hi\nlater\n" })
	src.setRunning("fresh/app", false)
	if err := waitErr(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestLogQuery(t *testing.T) {
	when := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	q := LogOptions{Container: "a b", Previous: true, Follow: true, Timestamps: true, TailLines: 0, SinceTime: when}.query()
	want := url.Values{"container": {"a b"}, "previous": {"true"}, "follow": {"true"}, "timestamps": {"true"}, "tailLines": {"0"}, "sinceTime": {"2025-03-01T09:00:00Z"}}
	if q.Encode() != want.Encode() {
		t.Fatalf("query %s, want %s", q.Encode(), want.Encode())
	}
	if q := (LogOptions{TailLines: AllLines}).query(); len(q) != 0 {
		t.Fatalf("query of defaults: %s", q.Encode())
	}
}
