package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestLivenessHandler(t *testing.T) {
	var elapsed time.Duration
	srv := httptest.NewServer(livenessHandler(func() time.Duration { return elapsed }, 3*time.Second))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, string) {
		t.Helper()
		res, err := noFollow.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(b)
	}
	if code, _, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz at start: %d, want 200", code)
	}
	elapsed = 2999 * time.Millisecond
	if code, _, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz just before N s: %d, want 200", code)
	}
	elapsed = 3 * time.Second
	if code, _, _ := get("/healthz"); code != 500 {
		t.Errorf("/healthz after N s: %d, want 500", code)
	}
	if code, _, _ := get("/"); code != 200 {
		t.Errorf("/: %d, want 200", code)
	}
	code, loc, body := get("/redirect?loc=http%3A%2F%2F0.0.0.0%2F")
	if code != http.StatusFound || loc != "http://0.0.0.0/" || !strings.Contains(body, `<a href="http://0.0.0.0/">Found</a>.`) {
		t.Errorf("/redirect: %d %q %q", code, loc, body)
	}
	if code, loc, _ := get("/redirect?loc=%2Fhealthz"); code != http.StatusFound || loc != "/healthz" {
		t.Errorf("local /redirect: %d %q", code, loc)
	}
}

func TestStreamHandlerNeverEnds(t *testing.T) {
	srv := httptest.NewServer(streamHandler(0, 1024))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	if err != nil || n != 1<<20 || res.StatusCode != 200 {
		t.Fatalf("read %d bytes, status %d, err %v: want a 200 body longer than 1 MiB", n, res.StatusCode, err)
	}
}

func TestBlackholeConnectTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	closeFn, err := blackhole(port)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	start := time.Now()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 300*time.Millisecond)
	if err == nil {
		c.Close()
		t.Fatal("a connect to the blackhole succeeded")
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Fatalf("the connect failed after %v (%v), want a timeout", took, err)
	}
}

func TestHangNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	go func() { _ = hang(addr) }()
	var c net.Conn
	for i := 0; i < 100; i++ {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // the server is starting
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("hang answered: %d bytes, %v", n, err)
	}
}

func TestGRPCHealthServing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	go func() { _ = serveGRPCHealth(addr) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithBlock())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", res, err)
	}
}

func TestMounttest(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "data-1")
	if err := os.WriteFile(f, []byte("value-1"), 0o640); err != nil {
		t.Fatal(err)
	}
	out := captureStdout(t, func() error {
		return mounttest([]string{"--file_content=" + f, "--file_mode=" + f, "--file_perm=" + f, "--new_file_0660=" + filepath.Join(dir, "new")})
	})
	for _, want := range []string{
		fmt.Sprintf("content of file %q: value-1\n", f),
		fmt.Sprintf("mode of file %q: -rw-r-----\n", f),
		fmt.Sprintf("perms of file %q: -rw-r-----\n", f),
		fmt.Sprintf("content of file %q: mount-tester new file\n\n", filepath.Join(dir, "new")),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("new file: %v %v", fi, err)
	}
	if err := mounttest([]string{"--file_content=" + filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing file is not a failure")
	}
}

// captureStdout runs f with os.Stdout going to a pipe and returns what it
// wrote; f must not fail.
func captureStdout(t *testing.T, f func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	ferr := f()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	if ferr != nil {
		t.Fatalf("%v\n%s", ferr, b)
	}
	return string(b)
}

func TestNetexecLogsRequests(t *testing.T) {
	var log strings.Builder
	srv := httptest.NewServer(netexecHandler(&log))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/echo?msg=poststart")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "poststart" {
		t.Errorf("/echo answered %q, want poststart", b)
	}
	if want := "GET /echo?msg=poststart\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}
