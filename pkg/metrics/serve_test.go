package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		allow   bool
		wantErr string
	}{
		{"", false, ""},
		{"127.0.0.1:10255", false, ""},
		{"127.0.0.2:10255", false, ""},
		{"[::1]:10255", false, ""},
		{"localhost:10255", false, ""},
		{":10255", false, "every interface"},
		{"0.0.0.0:10255", false, "every interface"},
		{"[::]:10255", false, "every interface"},
		{"10.1.2.3:10255", false, "not a loopback"},
		{"[2001:db8::1]:10255", false, "not a loopback"},
		{"node1.example:10255", false, "host name"},
		{"127.0.0.1", false, "missing port"},
		{":10255", true, ""},
		{"10.1.2.3:10255", true, ""},
		{"node1.example:10255", true, ""},
	} {
		err := CheckAddr(tc.addr, tc.allow)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckAddr(%q, %v) = %v, want error containing %q", tc.addr, tc.allow, err, tc.wantErr)
		}
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "192.0.2.1:0", "example.com:0"} {
		err := Serve(context.Background(), addr, false, http.NotFoundHandler(), zap.NewNop())
		if err == nil {
			t.Errorf("Serve(%q) without allowNonLoopback: nil error", addr)
		}
	}
}

func TestServeDisabled(t *testing.T) {
	// An empty address returns at once, even with a live context.
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), "", false, http.NotFoundHandler(), nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve(\"\"): %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve(\"\") did not return")
	}
}

func TestServeBadAddr(t *testing.T) {
	if err := Serve(context.Background(), "127.0.0.1:99999", false, http.NotFoundHandler(), nil); err == nil {
		t.Error("Serve on an invalid port: nil error")
	}
}

// serveUntilCancel runs Serve on addr and returns the address it bound
// (from its log line) and a stop function that returns Serve's error.
func serveUntilCancel(t *testing.T, addr string, allow bool, h http.Handler) (string, func() error) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, allow, h, zap.New(core)) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range logs.FilterMessage("serving metrics").All() {
			return e.ContextMap()["address"].(string), func() error {
				cancel()
				select {
				case err := <-done:
					return err
				case <-time.After(10 * time.Second):
					t.Fatal("Serve did not return after its context ended")
					return nil
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Serve(%q) returned early: %v", addr, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("Serve(%q) never logged its address", addr)
	return "", nil
}

func TestServe(t *testing.T) {
	h := Handler(prometheusRegistry(t), nil, false)
	for _, tc := range []struct {
		addr  string
		allow bool
	}{
		{"127.0.0.1:0", false},
		{"localhost:0", false},
		{"127.0.0.1:0", true},
	} {
		bound, stop := serveUntilCancel(t, tc.addr, tc.allow, h)
		resp, err := http.Get("http://" + bound + "/healthz")
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Errorf("%s: /healthz got %d %q", tc.addr, resp.StatusCode, body)
		}
		resp, err = http.Get("http://" + bound + "/metrics")
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "minilet_build_info") {
			t.Errorf("%s: /metrics got %d", tc.addr, resp.StatusCode)
		}
		if err := stop(); err != nil {
			t.Errorf("%s: Serve after cancel: %v", tc.addr, err)
		}
		if _, err := http.Get("http://" + bound + "/healthz"); err == nil {
			t.Errorf("%s: still serving after Serve returned", tc.addr)
		}
	}
}
