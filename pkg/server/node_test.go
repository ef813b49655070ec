package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeNode is a PodSource that is also a NodeController.
type fakeNode struct {
	*fakeSource

	mu       sync.Mutex
	cordoned bool
	drains   []*int64 // grace periods of the drains asked for
	patches  []string
	err      error
	// drainStarted, when set, is closed as Drain begins; Drain then
	// waits for its context to end and reports that in drainEnded.
	drainStarted chan struct{}
	drainEnded   chan error
}

func newFakeNode() *fakeNode { return &fakeNode{fakeSource: newFakeSource()} }

func (f *fakeNode) Node(context.Context) (v1.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return v1.Node{}, f.err
	}
	return v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}, Spec: v1.NodeSpec{Unschedulable: f.cordoned}}, nil
}

func (f *fakeNode) SetCordoned(_ context.Context, c bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.cordoned = c
	return nil
}

func (f *fakeNode) Drain(ctx context.Context, grace *int64) error {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return f.err
	}
	f.cordoned = true
	f.drains = append(f.drains, grace)
	started, ended := f.drainStarted, f.drainEnded
	f.mu.Unlock()
	if started != nil {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}
	return nil
}

// PatchNode takes {"metadata":{"labels":{...}}} only; "bad" is invalid.
func (f *fakeNode) PatchNode(ctx context.Context, patch []byte) (v1.Node, error) {
	if strings.Contains(string(patch), "bad") {
		return v1.Node{}, invalidErr{}
	}
	f.mu.Lock()
	f.patches = append(f.patches, string(patch))
	f.mu.Unlock()
	return f.Node(ctx)
}

type invalidErr struct{}

func (invalidErr) Error() string { return "Node is invalid: bad label" }
func (invalidErr) Invalid() bool { return true }

func (f *fakeNode) state() (bool, []*int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cordoned, append([]*int64(nil), f.drains...)
}

func TestNodeEndpoints(t *testing.T) {
	fake := newFakeNode()
	c := NewClient(startServer(t, fake, nil))
	ctx := context.Background()

	n, err := c.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != "Node" || n.APIVersion != "v1" || n.Name != "node1" || n.Spec.Unschedulable {
		t.Fatalf("node: %s/%s %s unschedulable %v", n.APIVersion, n.Kind, n.Name, n.Spec.Unschedulable)
	}

	if err := c.Cordon(ctx, true); err != nil {
		t.Fatal(err)
	}
	if cordoned, _ := fake.state(); !cordoned {
		t.Fatal("cordon did not reach the controller")
	}
	if n, err := c.Node(ctx); err != nil || !n.Spec.Unschedulable {
		t.Fatalf("node after cordon: %v %v", err, n)
	}
	if err := c.Cordon(ctx, false); err != nil {
		t.Fatal(err)
	}
	if cordoned, _ := fake.state(); cordoned {
		t.Fatal("uncordon did not reach the controller")
	}

	five, minusOne := int64(5), int64(-1)
	for _, g := range []*int64{&five, nil, &minusOne} {
		if err := c.Drain(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	cordoned, drains := fake.state()
	if !cordoned || len(drains) != 3 || drains[0] == nil || *drains[0] != 5 || drains[1] != nil || drains[2] != nil {
		t.Fatalf("drains: cordoned %v, grace periods %v", cordoned, drains)
	}
}

func TestNodeEndpointsErrors(t *testing.T) {
	fake := newFakeNode()
	dir := startServer(t, fake, nil)
	for _, tc := range []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/api/v1/node/cordon", 405, `"reason":"MethodNotAllowed"`},
		{"GET", "/api/v1/node/uncordon", 405, `"code":405`},
		{"PUT", "/api/v1/node/drain", 405, `"kind":"Status"`},
		{"POST", "/api/v1/node", 405, `"reason":"MethodNotAllowed"`},
		{"POST", "/api/v1/node/drain?gracePeriod=soon", 400, `gracePeriod \"soon\" is not a number of seconds`},
		{"POST", "/api/v1/node/cordon/", 404, `"kind":"Status"`},
		{"POST", "/api/v1/node/reboot", 404, `"kind":"Status"`},
		{"GET", "/api/v1/node", 200, `"kind":"Node"`},
		{"POST", "/api/v1/node/uncordon", 200, `"kind":"Node"`},
	} {
		code, body := rawRequest(t, dir, tc.method, tc.target)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.target, code, body, tc.code, tc.body)
		}
	}
	if _, drains := fake.state(); len(drains) != 0 {
		t.Errorf("a refused drain drained: %v", drains)
	}

	// The Allow header names the method.
	conn := NewClient(dir)
	req, _ := http.NewRequest(http.MethodGet, "http://minilet/api/v1/node/drain", nil)
	resp, err := conn.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET drain: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// The controller's errors are 500s with its message.
	fake.mu.Lock()
	fake.err = errors.New("write node state: disk full")
	fake.mu.Unlock()
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"node":   func() error { _, err := conn.Node(ctx); return err },
		"cordon": func() error { return conn.Cordon(ctx, true) },
		"drain":  func() error { return conn.Drain(ctx, nil) },
	} {
		err := call()
		if Reason(err) != metav1.StatusReasonInternalError || err.Error() != "write node state: disk full" {
			t.Errorf("%s: %v (reason %q)", name, err, Reason(err))
		}
	}
}

func TestNodeEndpointsWithoutController(t *testing.T) {
	c := NewClient(startServer(t, newFakeSource(), nil))
	ctx := context.Background()
	if _, err := c.Node(ctx); !IsNotFound(err) {
		t.Errorf("node: %v", err)
	}
	if err := c.Cordon(ctx, true); !IsNotFound(err) {
		t.Errorf("cordon: %v", err)
	}
	if err := c.Drain(ctx, nil); !IsNotFound(err) {
		t.Errorf("drain: %v", err)
	}
}

// A drain outlives the client's request timeout, and ends when the
// client gives up.
func TestDrainFollowsTheClient(t *testing.T) {
	fake := newFakeNode()
	fake.drainStarted = make(chan struct{})
	fake.drainEnded = make(chan error, 1)
	c := NewClient(startServer(t, fake, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Drain(ctx, nil) }()
	select {
	case <-fake.drainStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the drain did not start")
	}
	cancel()
	select {
	case err := <-fake.drainEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the controller's drain ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the controller's drain went on after the client left")
	}
	if err := <-done; err == nil {
		t.Error("a cancelled drain returned nil")
	}
}

// slowDrain takes longer than the server's timeouts.
type slowDrain struct {
	*fakeNode
	d time.Duration
}

func (s slowDrain) Drain(ctx context.Context, grace *int64) error {
	time.Sleep(s.d) // a drain that takes its time is the point
	return s.fakeNode.Drain(ctx, grace)
}

func TestDrainOutlivesServerTimeouts(t *testing.T) {
	dir := t.TempDir()
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 100 * time.Millisecond
	srv := &http.Server{Handler: newFor(slowDrain{newFakeNode(), 3 * timeout}, nil).Handler(), ReadTimeout: timeout, WriteTimeout: timeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	if err := NewClient(dir).Drain(context.Background(), nil); err != nil {
		t.Fatalf("a drain longer than the server's timeouts: %v", err)
	}
}

func TestPatchNode(t *testing.T) {
	fake := newFakeNode()
	c := NewClient(startServer(t, fake, nil))
	ctx := context.Background()
	n, err := c.PatchNode(ctx, []byte(`{"metadata":{"labels":{"gpu":"true"}}}`))
	if err != nil || n.Name != "node1" {
		t.Fatalf("patch: %v %v", n, err)
	}
	if len(fake.patches) != 1 || !strings.Contains(fake.patches[0], `"gpu":"true"`) {
		t.Fatalf("patches %v", fake.patches)
	}
	_, err = c.PatchNode(ctx, []byte(`{"metadata":{"labels":{"bad":"x"}}}`))
	var se *StatusError
	if !errors.As(err, &se) || se.Status.Code != http.StatusUnprocessableEntity || !strings.Contains(se.Error(), "bad label") {
		t.Fatalf("invalid patch: %v, want a 422", err)
	}
	// A JSON patch is not taken.
	_, err = c.send(ctx, c.http, http.MethodPatch, "/api/v1/node", "application/json-patch+json", []byte(`[]`))
	if !errors.As(err, &se) || se.Status.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("json patch: %v, want 415", err)
	}
}
