package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The benchmarks probe a server in a child process (this test binary run
// as TestHelperServer), so the CPU time they report is the prober's own:
// what issue 5 budgets at 0.2 ms per probe.

const helperEnv = "MINILET_PROBE_HELPER"

// TestHelperServer is not a test: run by the benchmarks in a child
// process, it serves HTTP or TCP on a loopback port, prints the port, and
// exits when its stdin closes.
func TestHelperServer(t *testing.T) {
	kind := os.Getenv(helperEnv)
	if kind == "" {
		t.Skip("helper process for the benchmarks")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	switch kind {
	case "http":
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	case "tcp":
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Close()
		}
	}
}

func helperServer(b *testing.B, kind string) int {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), helperEnv+"="+kind)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		b.Fatalf("helper said %q", line)
	}
	return port
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchProbe(b *testing.B, probe probeFunc) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for b.Loop() {
		if o, msg, err := probe(ctx); o != outcomeSuccess || err != nil {
			b.Fatalf("%v %q %v", o, msg, err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func BenchmarkHTTPProbe(b *testing.B) {
	port := helperServer(b, "http")
	a := &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(port)}
	benchProbe(b, newHTTPProbe(newProbeTransport(), "minilet-probe/bench", a, nil, "127.0.0.1", time.Second))
}

func BenchmarkTCPProbe(b *testing.B) {
	port := helperServer(b, "tcp")
	a := &v1.TCPSocketAction{Port: intstr.FromInt(port)}
	benchProbe(b, newTCPProbe(a, nil, "127.0.0.1", time.Second))
}
