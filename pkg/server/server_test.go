package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeSource struct {
	pods   []v1.Pod
	events map[string][]v1.Event
	panic  bool
}

func (f *fakeSource) Pods() []v1.Pod {
	if f.panic {
		panic("boom")
	}
	return f.pods
}

func (f *fakeSource) Events(ns, name string) []v1.Event { return f.events[ns+"/"+name] }

type fakeHealth struct{ err error }

func (h fakeHealth) Healthy(context.Context) error { return h.err }

func testPod(ns, name string) v1.Pod {
	return v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: v1.PodStatus{Phase: v1.PodRunning}}
}

func newFakeSource() *fakeSource {
	old := testPod("default", "web")
	now := metav1.Now()
	old.DeletionTimestamp = &now
	old.UID = "old"
	cur := testPod("default", "web")
	cur.UID = "new"
	return &fakeSource{
		pods: []v1.Pod{old, cur, testPod("default", "db"), testPod("kube-system", "dns")},
		events: map[string][]v1.Event{"default/web": {
			{Reason: "Pulled", Message: "pulled", Count: 1, Type: "Normal"},
			{Reason: "Started", Message: "started", Count: 2, Type: "Normal"},
		}},
	}
}

// startServer serves src on a socket in a temporary run directory and
// returns the directory. The server stops when the test ends.
func startServer(t *testing.T, src PodSource, health HealthChecker) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newFor(src, health).ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if _, err := os.Lstat(SocketPath(dir)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket left behind: %v", err)
		}
	})
	return dir
}

func TestClientListGetEvents(t *testing.T) {
	dir := startServer(t, newFakeSource(), nil)
	c := NewClient(dir)
	ctx := context.Background()

	all, err := c.ListPods(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if all.Kind != "PodList" || all.APIVersion != "v1" || len(all.Items) != 4 {
		t.Fatalf("list all: %s/%s, %d items", all.APIVersion, all.Kind, len(all.Items))
	}
	def, err := c.ListPods(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Items) != 3 {
		t.Fatalf("list default: %d items", len(def.Items))
	}
	none, err := c.ListPods(ctx, "nothing-here")
	if err != nil || none.Items == nil || len(none.Items) != 0 {
		t.Fatalf("list of an empty namespace: %v, %#v", err, none)
	}

	pod, err := c.GetPod(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if pod.Kind != "Pod" || pod.APIVersion != "v1" || pod.UID != "new" {
		t.Fatalf("get: kind %q apiVersion %q uid %q, want Pod v1 new", pod.Kind, pod.APIVersion, pod.UID)
	}

	_, err = c.GetPod(ctx, "default", "nope")
	if !IsNotFound(err) || err.Error() != `pods "nope" not found` {
		t.Fatalf("get missing pod: %v (not found: %v)", err, IsNotFound(err))
	}
	_, err = c.GetPod(ctx, "kube-system", "web")
	if !IsNotFound(err) {
		t.Fatalf("get pod of another namespace: %v", err)
	}

	evs, err := c.PodEvents(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if evs.Kind != "EventList" || len(evs.Items) != 2 || evs.Items[1].Reason != "Started" {
		t.Fatalf("events: %#v", evs)
	}
	evs, err = c.PodEvents(ctx, "default", "db")
	if err != nil || evs.Items == nil || len(evs.Items) != 0 {
		t.Fatalf("events of a quiet pod: %v %#v", err, evs)
	}
	if _, err := c.PodEvents(ctx, "default", "nope"); !IsNotFound(err) {
		t.Fatalf("events of a missing pod: %v", err)
	}
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	if err := NewClient(startServer(t, newFakeSource(), nil)).Health(ctx); err != nil {
		t.Fatalf("nil checker: %v", err)
	}
	if err := NewClient(startServer(t, newFakeSource(), fakeHealth{})).Health(ctx); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	err := NewClient(startServer(t, newFakeSource(), fakeHealth{errors.New("containerd is down")})).Health(ctx)
	if err == nil || err.Error() != "containerd is down" || Reason(err) != metav1.StatusReasonServiceUnavailable {
		t.Fatalf("unhealthy: %v (reason %q)", err, Reason(err))
	}
}

// rawRequest sends one request on the socket and returns the status
// code, so that paths no http.Client would send can be tried.
func rawRequest(t *testing.T, dir, method, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("unix", SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, method+" "+target+" HTTP/1.1\r\nHost: minilet\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBadRequests(t *testing.T) {
	dir := startServer(t, newFakeSource(), nil)
	for _, tc := range []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/api/v1/namespaces//pods/", 404, `"reason":"NotFound"`},
		{"GET", "/api/v1/namespaces//pods", 404, `"kind":"Status"`},
		{"GET", "/api/v1/namespaces/default/pods/", 404, `the server could not find the requested resource`},
		{"GET", "/api/v1/namespaces/default/pods/web/", 404, `"kind":"Status"`},
		{"GET", "/api/v1/namespaces/default/pods/../pods/web", 404, `"kind":"Status"`},
		{"GET", "/api/v1/namespaces/%zz/pods", 400, ""},
		{"GET", "/api/v1/namespaces/default/pods/%zz", 400, ""},
		{"GET", "/api/v2/pods", 404, `"code":404`},
		{"GET", "/", 404, `"kind":"Status"`},
		{"GET", "/api/v1/namespaces/default/pods/web/logs", 404, `"kind":"Status"`},
		{"GET", "/api/v1/namespaces/default/pods/a%2Fb", 404, `pods \"a/b\" not found`},
		{"POST", "/api/v1/pods", 405, `"reason":"MethodNotAllowed"`},
		{"DELETE", "/api/v1/namespaces/default/pods/web", 405, `"code":405`},
		{"PUT", "/healthz", 405, `"kind":"Status"`},
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/api/v1/namespaces/default/pods/web", 200, `"kind":"Pod"`},
	} {
		code, body := rawRequest(t, dir, tc.method, tc.target)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.target, code, body, tc.code, tc.body)
		}
	}
}

func TestPanicsAreRecovered(t *testing.T) {
	src := newFakeSource()
	src.panic = true
	dir := startServer(t, src, nil)
	_, err := NewClient(dir).ListPods(context.Background(), "")
	if Reason(err) != metav1.StatusReasonInternalError {
		t.Fatalf("panicking source: %v", err)
	}
	// The server still answers.
	if err := NewClient(dir).Health(context.Background()); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
}

func TestSocketMode(t *testing.T) {
	// Not parallel: the umask is process-wide. A zero umask must not make
	// the socket, even briefly, reachable by others.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "run")
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want a 0600 socket", fi.Mode())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("run dir mode %v, want 0700", di.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("run dir holds %v, want only the socket", ents)
	}
	if ln.Addr().String() != SocketPath(dir) {
		t.Fatalf("listener address %s", ln.Addr())
	}
}

func TestStaleAndLiveSockets(t *testing.T) {
	dir := t.TempDir()
	// A stale socket: bound, then its listener gone without removing it.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: SocketPath(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	ln, err := Listen(dir)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	// A live one is refused.
	if _, err := Listen(dir); err == nil || !strings.Contains(err.Error(), "another minilet daemon") {
		t.Fatalf("listen over a live socket: %v", err)
	}
	ln.Close()
	if _, err := os.Lstat(SocketPath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket not removed on close: %v", err)
	}
	// A regular file is left alone.
	if err := os.WriteFile(SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("listen over a regular file: %v", err)
	}
}

func TestServeRemovesSocketWhenDone(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With the context already done, Serve creates the socket, stops at
	// once and removes it.
	if err := newFor(newFakeSource(), nil).Serve(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(SocketPath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
}

func TestClientWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	_, err := NewClient(dir).ListPods(context.Background(), "")
	want := "cannot reach the minilet daemon at " + SocketPath(dir) + ": is it running? (set --run-dir or MINILET_RUN_DIR)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	// A socket nobody listens on gives the same hint.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: SocketPath(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := NewClient(dir).Health(ctx); err == nil || err.Error() != want {
		t.Fatalf("dead socket: %v", err)
	}
}
