package probe

import (
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// hangListener accepts connections and never answers; it reads until the
// client goes away, then closes its side, so a test can count fds.
func hangListener(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// settle waits until goroutines and fds are back to their baselines.
func settle(t *testing.T, goroutines, fds int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFDs(t)
		if g <= goroutines && f <= fds {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d (baseline %d), fds %d (baseline %d)\n%s", g, goroutines, f, fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// anyOutcome accepts any outcome: 40 endless bodies at once on a small
// machine may not send their headers within the timeout; the test is about
// time and leaks (TestHTTPProbe checks the success).
const anyOutcome outcome = -1

// TestNoLeaksAgainstHostileTargets runs many probes, concurrently, against
// targets that never answer, stall, or stream forever. Every run must end
// within its timeout plus a little, and leave no goroutine, fd or
// connection behind.
func TestNoLeaksAgainstHostileTargets(t *testing.T) {
	const timeout = 200 * time.Millisecond
	const runs = 40
	slack := 500 * time.Millisecond
	if raceEnabled {
		slack = 2 * time.Second
	}

	srv := httptest.NewUnstartedServer(testMux(t, nil))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	tlsSrv := httptest.NewUnstartedServer(testMux(t, nil))
	tlsSrv.EnableHTTP2 = true
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(tlsSrv.Close)
	_, port := hostPort(t, srv.URL)
	_, tlsPort := hostPort(t, tlsSrv.URL)
	hang := hangListener(t)
	drop := synDropper(t)
	tr := newProbeTransport()

	httpGet := func(path string, port int, scheme v1.URIScheme) probeFunc {
		a := &v1.HTTPGetAction{Path: path, Port: intstr.FromInt(port), Scheme: scheme}
		return newHTTPProbe(tr, "minilet-probe/test", a, nil, "127.0.0.1", timeout)
	}
	cases := []struct {
		name  string
		probe probeFunc
		want  outcome
	}{
		{"http, never answers", httpGet("/", hang, ""), outcomeFailure},
		{"http, SYNs dropped", httpGet("/", drop, ""), outcomeFailure},
		{"https, SYNs dropped", httpGet("/", drop, v1.URISchemeHTTPS), outcomeFailure},
		{"tcp, SYNs dropped", newTCPProbe(&v1.TCPSocketAction{Port: intstr.FromInt(drop)}, nil, "127.0.0.1", timeout), outcomeFailure},
		{"grpc, SYNs dropped", newGRPCProbe(&v1.GRPCAction{Port: int32(drop)}, "127.0.0.1", "ua", timeout), outcomeFailure},
		{"http, handler hangs", httpGet("/slow", port, ""), outcomeFailure},
		{"http, body stalls", httpGet("/stall-body", port, ""), outcomeFailure},
		{"http, endless body", httpGet("/endless", port, ""), anyOutcome},
		{"https, never answers the handshake", httpGet("/", hang, v1.URISchemeHTTPS), outcomeFailure},
		{"https h2, endless body", httpGet("/endless", tlsPort, v1.URISchemeHTTPS), anyOutcome},
		{"https h2, handler hangs", httpGet("/slow", tlsPort, v1.URISchemeHTTPS), outcomeFailure},
		{"tcp, accepts and hangs", newTCPProbe(&v1.TCPSocketAction{Port: intstr.FromInt(hang)}, nil, "127.0.0.1", timeout), outcomeSuccess},
		{"grpc, accepts and hangs", newGRPCProbe(&v1.GRPCAction{Port: int32(hang)}, "127.0.0.1", "ua", timeout), outcomeFailure},
		{"grpc, an HTTP/1 server", newGRPCProbe(&v1.GRPCAction{Port: int32(port)}, "127.0.0.1", "ua", timeout), outcomeFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One run first, so lazily started runtime goroutines are
			// in the baseline.
			if o, msg, err := c.probe(context.Background()); (c.want != anyOutcome && o != c.want) || err != nil {
				t.Fatalf("got %v %q %v; want %v", o, msg, err, c.want)
			}
			settle(t, runtime.NumGoroutine(), openFDs(t)) // wait for the first run's connections to go
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)

			var wg sync.WaitGroup
			errs := make(chan string, runs)
			for range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					o, msg, err := c.probe(context.Background())
					if took := time.Since(start); took > timeout+slack {
						errs <- "a run took " + took.String()
					}
					if (c.want != anyOutcome && o != c.want) || err != nil {
						errs <- "unexpected result: " + msg
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			settle(t, goroutines, fds)
		})
	}
}

// TestCanceledProbesReturnAtOnce cancels probes stuck on a hostile target
// through their context, as RemoveContainer does: they must not wait for
// the probe timeout.
func TestCanceledProbesReturnAtOnce(t *testing.T) {
	hang := hangListener(t)
	tr := newProbeTransport()
	probes := map[string]probeFunc{
		"http": newHTTPProbe(tr, "ua", &v1.HTTPGetAction{Port: intstr.FromInt(hang)}, nil, "127.0.0.1", time.Minute),
		"grpc": newGRPCProbe(&v1.GRPCAction{Port: int32(hang)}, "127.0.0.1", "ua", time.Minute),
	}
	for name, p := range probes {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p(ctx); close(done) }()
		time.Sleep(20 * time.Millisecond) // let it connect; not a synchronisation, any moment works
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s probe did not return after cancel", name)
		}
	}
}

// synDropper returns the port of a listener whose accept queue is full,
// so the kernel drops further SYNs and a connect hangs, like a pod IP that
// is gone.
func synDropper(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	// Fill the queue; then check that a connect hangs.
	for range 4 {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 100*time.Millisecond); err == nil {
		c.Close()
		t.Skip("the kernel accepts beyond the backlog here")
	}
	return port
}
