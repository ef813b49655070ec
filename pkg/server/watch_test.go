package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// watchSource is a PodSource whose pods the test changes while the server
// reads them.
type watchSource struct {
	mu   sync.Mutex
	pods []v1.Pod
}

func (s *watchSource) Pods() []v1.Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]v1.Pod(nil), s.pods...)
}

func (s *watchSource) Events(string, string) []v1.Event { return nil }

func (s *watchSource) set(pods ...v1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods = pods
}

func watchPod(ns, name, uid string, phase v1.PodPhase) v1.Pod {
	p := testPod(ns, name)
	p.UID = types.UID(uid)
	p.Status.Phase = phase
	return p
}

type event struct {
	typ string
	pod *v1.Pod
}

func (e event) String() string {
	return e.typ + " " + e.pod.Namespace + "/" + e.pod.Name + " " + string(e.pod.UID) + " " + string(e.pod.Status.Phase)
}

// startWatch runs WatchPods until the test ends, and returns its events.
func startWatch(t *testing.T, c *Client, ns, name string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan event, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.WatchPods(ctx, ns, name, func(typ string, pod *v1.Pod) error {
			ch <- event{typ, pod}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("watch ended with %v, want context.Canceled", err)
		}
	})
	return ch
}

// expect reads the next events and checks them, as "TYPE ns/name uid
// phase" (a bookmark is "BOOKMARK /  ").
func expect(t *testing.T, ch <-chan event, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case ev := <-ch:
			if got := ev.String(); got != w {
				t.Fatalf("event %q, want %q", got, w)
			}
			if ev.typ == "BOOKMARK" && ev.pod.Annotations["k8s.io/initial-events-end"] != "true" {
				t.Fatalf("bookmark without the initial-events-end annotation: %v", ev.pod.Annotations)
			}
			if ev.typ != "BOOKMARK" && (ev.pod.Kind != "Pod" || ev.pod.APIVersion != "v1") {
				t.Fatalf("event object %s/%s", ev.pod.APIVersion, ev.pod.Kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event; want %q", w)
		}
	}
}

// expectNone checks that nothing more came by the time a later change
// (made by mark) shows up: events are sent in order, so anything
// unexpected would arrive before it.
func expectNone(t *testing.T, ch <-chan event, mark func(), want string) {
	t.Helper()
	mark()
	expect(t, ch, want)
}

func TestWatchPods(t *testing.T) {
	src := &watchSource{}
	src.set(watchPod("default", "db", "u1", v1.PodPending), watchPod("default", "web", "u2", v1.PodRunning),
		watchPod("other", "dns", "u3", v1.PodRunning))
	c := NewClient(startServer(t, src, nil))
	all := startWatch(t, c, "", "")
	def := startWatch(t, c, "default", "")
	one := startWatch(t, c, "default", "db")

	expect(t, all, "ADDED default/db u1 Pending", "ADDED default/web u2 Running", "ADDED other/dns u3 Running", "BOOKMARK /  ")
	expect(t, def, "ADDED default/db u1 Pending", "ADDED default/web u2 Running", "BOOKMARK /  ")
	expect(t, one, "ADDED default/db u1 Pending", "BOOKMARK /  ")

	// db starts running.
	src.set(watchPod("default", "db", "u1", v1.PodRunning), watchPod("default", "web", "u2", v1.PodRunning),
		watchPod("other", "dns", "u3", v1.PodRunning))
	expect(t, all, "MODIFIED default/db u1 Running")
	expect(t, def, "MODIFIED default/db u1 Running")
	expect(t, one, "MODIFIED default/db u1 Running")

	// web is being deleted, then gone; dns is replaced by a new pod.
	deleting := watchPod("default", "web", "u2", v1.PodRunning)
	now := metav1.Now()
	deleting.DeletionTimestamp = &now
	src.set(watchPod("default", "db", "u1", v1.PodRunning), deleting, watchPod("other", "dns", "u3", v1.PodRunning))
	expect(t, all, "MODIFIED default/web u2 Running")
	expect(t, def, "MODIFIED default/web u2 Running")
	src.set(watchPod("default", "db", "u1", v1.PodRunning), watchPod("other", "dns", "u4", v1.PodPending))
	expect(t, all, "ADDED other/dns u4 Pending", "DELETED default/web u2 Running", "DELETED other/dns u3 Running")
	expect(t, def, "DELETED default/web u2 Running")

	// The single-pod watch saw none of that.
	expectNone(t, one, func() { src.set(watchPod("other", "dns", "u4", v1.PodPending)) }, "DELETED default/db u1 Running")
	expect(t, all, "DELETED default/db u1 Running")

	// A pod that comes back under its name is ADDED.
	src.set(watchPod("default", "db", "u5", v1.PodPending), watchPod("other", "dns", "u4", v1.PodPending))
	expect(t, one, "ADDED default/db u5 Pending")
}

func TestWatchRawStream(t *testing.T) {
	src := &watchSource{}
	src.set(watchPod("default", "web", "u1", v1.PodRunning))
	dir := startServer(t, src, nil)
	c := NewClient(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://minilet/api/v1/namespaces/default/pods?watch=1", nil)
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Type   string `json:"type"`
		Object v1.Pod `json:"object"`
	}
	if err := json.Unmarshal(line, &ev); err != nil || ev.Type != "ADDED" || ev.Object.Name != "web" || ev.Object.Kind != "Pod" {
		t.Fatalf("first line %s: %v", line, err)
	}
	// Without allowWatchBookmarks, no bookmark: the next line is the
	// change.
	src.set(watchPod("default", "web", "u1", v1.PodSucceeded))
	line, err = r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(line, []byte(`{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1"`)) {
		t.Fatalf("second line %s", line)
	}

	// Bad parameters, and watch=false is a plain list.
	for target, want := range map[string]string{
		"/api/v1/pods?watch=yes":                             `"code":400`,
		"/api/v1/pods?watch=true&allowWatchBookmarks=maybe":  `allowWatchBookmarks=\"maybe\"`,
		"/api/v1/pods?watch=false":                           `"kind":"PodList"`,
		"/api/v1/namespaces/default/pods/web?watch=0":        `"kind":"Pod"`,
		"/api/v1/namespaces/default/pods/web/events?watch=1": `"kind":"EventList"`,
	} {
		if _, body := rawRequest(t, dir, "GET", target); !strings.Contains(body, want) {
			t.Errorf("%s: %q, want %q", target, body, want)
		}
	}
}

func TestWatchClientErrors(t *testing.T) {
	c := NewClient(t.TempDir())
	err := c.WatchPods(context.Background(), "", "", func(string, *v1.Pod) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is it running?") {
		t.Errorf("no daemon: %v", err)
	}

	src := &watchSource{}
	src.set(watchPod("default", "web", "u1", v1.PodRunning))
	c = NewClient(startServer(t, src, nil))
	stop := errors.New("enough")
	err = c.WatchPods(context.Background(), "", "", func(string, *v1.Pod) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
}

// syncWriter is a ResponseWriter the test may read while the handler
// writes.
type syncWriter struct {
	mu     sync.Mutex
	header http.Header
	buf    bytes.Buffer
}

func (w *syncWriter) Header() http.Header { return w.header }
func (w *syncWriter) WriteHeader(int)     {}
func (w *syncWriter) Flush()              {}
func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// The handler returns when the client goes away (its request's context
// ends).
func TestWatchEndsWithTheClient(t *testing.T) {
	src := &watchSource{}
	src.set(watchPod("default", "web", "u1", v1.PodRunning))
	h := newFor(src, nil).Handler()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://minilet/api/v1/pods?watch=true", nil)
	w := &syncWriter{header: http.Header{}}
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(w, req)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.String(), `"ADDED"`) {
		if time.Now().After(deadline) {
			t.Fatal("no event written")
		}
		time.Sleep(5 * time.Millisecond) // polling for the goroutine's output, not synchronising on time
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch handler goes on after its client left")
	}
}

// A watch outlives the server's read and write timeouts, which bound
// ordinary requests.
func TestWatchOutlivesServerTimeouts(t *testing.T) {
	src := &watchSource{}
	src.set(watchPod("default", "web", "u1", v1.PodRunning))
	dir := t.TempDir()
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 100 * time.Millisecond
	srv := &http.Server{Handler: newFor(src, nil).Handler(), ReadTimeout: timeout, WriteTimeout: timeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	evs := startWatch(t, NewClient(dir), "", "")
	expect(t, evs, "ADDED default/web u1 Running", "BOOKMARK /  ")
	// Waiting past the timeouts is the point of this test.
	time.Sleep(3 * timeout)
	src.set(watchPod("default", "web", "u1", v1.PodSucceeded))
	expect(t, evs, "MODIFIED default/web u1 Succeeded")
}
