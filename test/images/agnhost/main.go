// Command agnhost is the test server of minilet's probe and restart
// integration tests, named after the Kubernetes e2e image whose roles it
// plays (the code is minilet's own). Built statically, it runs in a
// scratch-like test image; one mode per process:
//
//	agnhost liveness    [--port 8080] [--healthy-for N]  /healthz: 200 for N s (env HEALTHY_SECONDS, default 10), then 500;
//	                                                     /redirect?loc=URL: 302 to URL; anything else: 200
//	agnhost webserver   [--port 80]                      200 on every path (also as "test-webserver", the e2e suite's name)
//	agnhost grpc-health [--port 5000]                    grpc.health.v1.Health answering SERVING
//
// and the hostile targets of the probe fault tests:
//
//	agnhost hang      [--port 8080]   accepts connections, reads what comes, never answers
//	agnhost stream    [--port 8080] [--interval D] [--chunk N]
//	                                  200, then a body that never ends: N bytes every D
//	agnhost blackhole [--port 8080]   a listening port whose accept queue is full, so connects time out
//
// and, for the upstream e2e tests (make conformance):
//
//	agnhost pause                     sleeps until SIGTERM
//	agnhost netexec [--http-port 8080] [--udp-port 8081] [--tls-cert-file F --tls-private-key-file F]
//	                                  logs "<METHOD> <URI>" of each request; /echo?msg=M answers M
//	curl URL...                       (agnhost run as /bin/curl) GET and print, for exec hooks
//	agnhost mounttest [--file_content P] [--file_mode P] [--file_perm P] [--file_owner P] [--fs_type P]
//	                  [--new_file_0644 P ...] [--file_content_in_loop P --retry_time S --break_on_expected_content B]
//	                                  the lines the e2e volume tests read
//
// With no arguments it runs "liveness". SIGTERM ends it with status 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curl(os.Args[1:]))
	}
	args := os.Args[1:]
	mode := "liveness"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		mode, args = args[0], args[1:]
	}
	go exitOnTERM()
	if err := run(mode, args); err != nil {
		fmt.Fprintf(os.Stderr, "agnhost %s: %v\n", mode, err)
		os.Exit(1)
	}
}

// exitOnTERM makes SIGTERM end the process at once with status 0, also as
// PID 1 of a container, where an unhandled SIGTERM is ignored.
func exitOnTERM() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	os.Exit(0)
}

func run(mode string, args []string) error {
	switch mode {
	case "mounttest":
		return mounttest(args)
	case "netexec":
		return netexec(args)
	case "pause":
		select {} // until SIGTERM
	}
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	if mode == "test-webserver" {
		mode = "webserver" // the e2e suite's name of it
	}
	defPort := map[string]int{"webserver": 80, "grpc-health": 5000}[mode]
	if defPort == 0 {
		defPort = 8080
	}
	port := fs.Int("port", defPort, "TCP port to listen on")
	healthyFor := fs.Float64("healthy-for", envSeconds("HEALTHY_SECONDS", 10), "liveness: seconds /healthz answers 200 after start")
	interval := fs.Duration("interval", 0, "stream: pause between chunks")
	chunk := fs.Int("chunk", 4096, "stream: bytes per chunk")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr := ":" + strconv.Itoa(*port)
	switch mode {
	case "liveness":
		start := time.Now()
		healthy := time.Duration(*healthyFor * float64(time.Second))
		return serveHTTP(addr, livenessHandler(func() time.Duration { return time.Since(start) }, healthy))
	case "webserver":
		return serveHTTP(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "ok")
		}))
	case "grpc-health":
		return serveGRPCHealth(addr)
	case "hang":
		return hang(addr)
	case "stream":
		return serveHTTP(addr, streamHandler(*interval, *chunk))
	case "blackhole":
		closeFn, err := blackhole(*port)
		if err != nil {
			return err
		}
		defer closeFn()
		fmt.Println("blackhole ready on port", *port)
		select {}
	}
	return fmt.Errorf("unknown mode %q (liveness, webserver, grpc-health, hang, stream, blackhole)", mode)
}

// envSeconds reads a number of seconds from the environment.
func envSeconds(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func serveHTTP(addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// livenessHandler serves /healthz (200 while elapsed() < healthy, then
// 500), /redirect?loc=URL (302 to URL) and 200 elsewhere.
func livenessHandler(elapsed func() time.Duration, healthy time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if d := elapsed(); d >= healthy {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "error: unhealthy after %v\n", d.Round(time.Millisecond))
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		loc := r.URL.Query().Get("loc")
		if loc == "" {
			http.Error(w, "missing loc", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, loc, http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func serveGRPCHealth(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	hs := health.NewServer() // the overall service ("") is SERVING
	healthpb.RegisterHealthServer(s, hs)
	return s.Serve(l)
}

// hang accepts every connection and reads from it until the peer closes,
// never writing a byte: an HTTP or gRPC client waits for an answer that
// does not come, a TCP connect succeeds.
func hang(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}()
	}
}

// streamHandler answers 200 and then writes chunk bytes every interval
// until the client goes away.
func streamHandler(interval time.Duration, chunk int) http.Handler {
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = 'x'
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			if interval > 0 {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(interval):
				}
			}
		}
	})
}

// blackhole listens on port with an accept queue of one, never accepts,
// and fills the queue with a connection of its own: the kernel then drops
// every further SYN, so a client's connect hangs until its timeout. The
// returned function closes both sockets.
func blackhole(port int) (func(), error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	fail := func(err error) (func(), error) {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fail(fmt.Errorf("SO_REUSEADDR: %w", err))
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port}); err != nil {
		return fail(fmt.Errorf("bind port %d: %w", port, err))
	}
	if err := syscall.Listen(fd, 0); err != nil {
		return fail(fmt.Errorf("listen: %w", err))
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	filler, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fail(fmt.Errorf("fill the accept queue: %w", err))
	}
	// Check that the queue is full: a second connect must time out.
	if c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
		c.Close()
		filler.Close()
		return fail(errors.New("the accept queue is not full: a second connect succeeded"))
	}
	return func() {
		filler.Close()
		syscall.Close(fd)
	}, nil
}
