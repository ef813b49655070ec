package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rootWithLogCommands is the root command with logs and log-driver
// registered, whether or not main.go registers them yet.
func rootWithLogCommands(runDir string) *cobra.Command {
	root := newRootCommand()
	have := map[string]bool{}
	for _, c := range root.Commands() {
		have[c.Name()] = true
	}
	g := &globalFlags{runDir: runDir}
	if !have["logs"] {
		root.AddCommand(newLogsCommand(g))
	}
	if !have["log-driver"] {
		root.AddCommand(newLogDriverCommand(g))
	}
	return root
}

// lockedBuffer is a strings.Builder safe to poll while a command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runLogsCLI runs `minilet args...` against the daemon in runDir.
func runLogsCLI(ctx context.Context, runDir string, stdout, stderr *lockedBuffer, args ...string) error {
	root := rootWithLogCommands(runDir)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(append([]string{"--run-dir", runDir}, args...))
	return root.ExecuteContext(ctx)
}

// cliLogSource serves pods whose logs are <dir>/<pod>/<container>/<n>.log,
// n being 1 for the current instance and 0 for the previous one.
type cliLogSource struct {
	cliTestSource
	dir     string
	mu      sync.Mutex
	stopped map[string]bool
}

func (s *cliLogSource) ContainerLog(_, pod, container string, previous bool) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 1
	if previous {
		n = 0
	}
	return filepath.Join(s.dir, pod, container, fmt.Sprintf("%d.log", n)), !previous && !s.stopped[pod], nil
}

func (s *cliLogSource) stop(pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped[pod] = true
}

// appendLog appends stdout records to a CRI log file, timestamped a
// second apart from 2025-03-01T10:00:00Z by their position.
func appendLog(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	for i, l := range lines {
		ts := time.Date(2025, 3, 1, 10, 0, int(fi.Size())/100+i, 0, time.UTC).Format(time.RFC3339Nano)
		fmt.Fprintf(f, "%s stdout F %s\n", ts, l)
	}
}

func newCLILogSource(t *testing.T) *cliLogSource {
	t.Helper()
	run := v1.ContainerStatus{State: v1.ContainerState{Running: &v1.ContainerStateRunning{}},
		LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 2}}}
	pod := func(name string, annotations map[string]string, init []string, names ...string) v1.Pod {
		p := v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: annotations}}
		for _, n := range init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: n})
			cs := run
			cs.Name = n
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs)
		}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: n})
			cs := run
			cs.Name = n
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
		}
		return p
	}
	waiting := pod("waiting", nil, nil, "app")
	waiting.Status.ContainerStatuses[0].State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	waiting.Status.ContainerStatuses[0].LastTerminationState = v1.ContainerState{}
	dns := pod("dns", nil, nil, "coredns")
	dns.Namespace = "kube-system"
	s := &cliLogSource{
		cliTestSource: cliTestSource{pods: []v1.Pod{
			pod("web", nil, nil, "app"),
			pod("multi", nil, []string{"setup"}, "a", "b"),
			pod("annotated", map[string]string{defaultContainerAnnotation: "b"}, nil, "a", "b"),
			pod("badannotation", map[string]string{defaultContainerAnnotation: "zz"}, nil, "a", "b"),
			waiting,
			dns,
		}},
		dir:     t.TempDir(),
		stopped: map[string]bool{},
	}
	appendLog(t, filepath.Join(s.dir, "web", "app", "0.log"), "before the crash")
	appendLog(t, filepath.Join(s.dir, "web", "app", "1.log"), "one", "two", "three")
	appendLog(t, filepath.Join(s.dir, "multi", "a", "1.log"), "from a")
	appendLog(t, filepath.Join(s.dir, "multi", "b", "1.log"), "from b")
	appendLog(t, filepath.Join(s.dir, "annotated", "b", "1.log"), "annotated b")
	appendLog(t, filepath.Join(s.dir, "badannotation", "a", "1.log"), "first a")
	appendLog(t, filepath.Join(s.dir, "dns", "coredns", "1.log"), "dns one", "dns two")
	return s
}

func TestLogsCommand(t *testing.T) {
	dir := startCLITestDaemon(t, newCLILogSource(t))
	for _, tc := range []struct {
		args        []string
		out, errOut string
	}{
		{[]string{"logs", "web"}, "one\ntwo\nthree\n", ""},
		{[]string{"logs", "pod/web", "--tail", "1"}, "three\n", ""},
		{[]string{"logs", "--tail=2", "po/web", "--timestamps"}, "2025-03-01T10:00:01Z two\n2025-03-01T10:00:02Z three\n", ""},
		{[]string{"logs", "web", "-p"}, "before the crash\n", ""},
		{[]string{"logs", "--previous", "web", "-c", "app"}, "before the crash\n", ""},
		{[]string{"logs", "web", "app"}, "one\ntwo\nthree\n", ""},
		{[]string{"logs", "-n", "kube-system", "dns", "--tail", "1"}, "dns two\n", ""},
		{[]string{"logs", "dns", "--namespace=kube-system", "--since-time", "2025-03-01T10:00:01Z"}, "dns two\n", ""},
		{[]string{"logs", "multi"}, "from a\n", "Defaulted container \"a\" out of: a, b, setup (init)\n"},
		{[]string{"logs", "multi", "-c", "b"}, "from b\n", ""},
		{[]string{"logs", "annotated"}, "annotated b\n", ""},
		{[]string{"logs", "badannotation"}, "first a\n",
			"Default container name \"zz\" not found in pod badannotation\nDefaulted container \"a\" out of: a, b\n"},
	} {
		var out, errOut lockedBuffer
		if err := runLogsCLI(context.Background(), dir, &out, &errOut, tc.args...); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if out.String() != tc.out || errOut.String() != tc.errOut {
			t.Errorf("%q:\nstdout %q, want %q\nstderr %q, want %q", tc.args, out.String(), tc.out, errOut.String(), tc.errOut)
		}
	}
}

func TestLogsCommandErrors(t *testing.T) {
	dir := startCLITestDaemon(t, newCLILogSource(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", "gone"}, `Error from server (NotFound): pods "gone" not found`},
		{[]string{"logs", "web", "-c", "nope"}, "container nope is not valid for pod web"},
		{[]string{"logs", "waiting"}, `Error from server (BadRequest): container "app" in pod "waiting" is waiting to start: ContainerCreating`},
		{[]string{"logs", "web", "app", "-c", "app"}, "only one of -c or an inline [CONTAINER] arg is allowed"},
		{[]string{"logs", "deploy/web"}, `the server doesn't have a resource type "deploy"`},
		{[]string{"logs", "pod/"}, "must have a single resource and name"},
		{[]string{"logs", "web", "--tail", "-2"}, "--tail must be greater than or equal to -1"},
		{[]string{"logs", "web", "--since", "1h", "--since-time", "2025-03-01T10:00:00Z"}, "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{[]string{"logs", "web", "--since-time", "yesterday"}, "--since-time only accepts times matching RFC3339"},
		{[]string{"logs"}, "accepts between 1 and 2 arg(s)"},
	} {
		var out, errOut lockedBuffer
		err := runLogsCLI(context.Background(), dir, &out, &errOut, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestLogsCommandFollow(t *testing.T) {
	src := newCLILogSource(t)
	dir := startCLITestDaemon(t, src)
	var out, errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runLogsCLI(context.Background(), dir, &out, &errOut, "logs", "-f", "web", "--tail", "1")
	}()
	waitForOutput := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for out.String() != want {
			if time.Now().After(deadline) {
				t.Fatalf("output %q, want %q", out.String(), want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitForOutput("three\n")
	appendLog(t, filepath.Join(src.dir, "web", "app", "1.log"), "four")
	waitForOutput("three\nfour\n")
	src.stop("web")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("logs -f did not end when the container stopped")
	}
}
