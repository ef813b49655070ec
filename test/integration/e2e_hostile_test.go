package integration

// Probes against hostile targets (issue 6): each probe is bounded by its
// timeoutSeconds, and many periods of them leak nothing in minilet (file
// descriptors, goroutines, threads, memory) or in the container
// (processes, connections).

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestE2EHostileProbeTargets: readiness probes (period 1, timeout 1)
// against an HTTP server that never answers, the same server probed over
// gRPC, an HTTP server whose body trickles forever, a TCP port whose
// accept queue is full (connects hang), and an exec probe that forks a
// child holding its output, beside an HTTP server whose body floods
// forever (the body is read up to a cap, so that probe succeeds, as on
// the kubelet). Over 25 periods: every hostile probe fails about once a
// period and no probe run outlasts its timeout by much; minilet's open
// file descriptors, goroutines, threads and memory stay flat; the
// container holds no pile of probe processes or connections.
func TestE2EHostileProbeTargets(t *testing.T) {
	t.Parallel()
	d := startE2EDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--pprof")
	d.start()
	d.writeManifest("hostile.yaml", manifest(`apiVersion: v1
kind: Pod
metadata: {name: hostile}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hang-http
    image: %[2]s
    args: ["hang", "--port", "8081"]
    readinessProbe: {httpGet: {path: /, port: 8081}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
  - name: hang-grpc
    image: %[2]s
    args: ["hang", "--port", "8082"]
    readinessProbe: {grpc: {port: 8082}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
  - name: trickle
    image: %[2]s
    args: ["stream", "--port", "8083", "--interval", "200ms", "--chunk", "1"]
    readinessProbe: {httpGet: {path: /, port: 8083}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
  - name: blackhole
    image: %[2]s
    args: ["blackhole", "--port", "8084"]
    readinessProbe: {tcpSocket: {port: 8084}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
  - name: exec
    image: %[1]s
    command: ["sleep", "3600"]
    readinessProbe: {exec: {command: ["sh", "-c", "sleep 600 & sleep 601"]}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
  - name: flood
    image: %[2]s
    args: ["stream", "--port", "8085"]
    readinessProbe: {httpGet: {path: /, port: 8085}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1}
`))
	hostile := []string{"hang-http", "hang-grpc", "trickle", "blackhole", "exec"}
	p := d.waitPod("hostile", 90*time.Second, "runs, with flood ready", func(p *v1.Pod) error {
		if err := allRunning(p); err != nil {
			return err
		}
		if cs := containerStatus(p, "flood"); cs == nil || !cs.Ready {
			return fmt.Errorf("flood is not ready: an endless body must be cut at the cap and succeed")
		}
		return nil
	})
	_, pids := d.pids(p)
	execNS := nsInode(t, pids["exec"], "pid")

	// Warm up: every probe has been in flight a few times.
	d.eventually(30*time.Second, "each hostile probe has failed 3 times", func() error {
		for _, c := range hostile {
			if n := d.probeCount("hostile", c, "Readiness", "failed"); n < 3 {
				return fmt.Errorf("%s: %d failures", c, n)
			}
		}
		return nil
	})
	before := d.footprint()
	failedBefore := map[string]int{}
	for _, c := range hostile {
		failedBefore[c] = d.probeCount("hostile", c, "Readiness", "failed")
	}
	const window = 25 * time.Second
	start := time.Now()
	for time.Since(start) < window {
		p, err := d.pod("default", "hostile")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range hostile {
			cs := containerStatus(p, c)
			if cs.Ready || cs.RestartCount != 0 {
				t.Fatalf("%s: ready %v, restartCount %d: a failing readiness probe must keep it unready and never restart it", c, cs.Ready, cs.RestartCount)
			}
		}
		if n := countInPidNS(execNS, "sleep60"); n > 6 {
			t.Fatalf("%d probe processes alive in the exec container: timed-out probes leave their children behind", n)
		}
		time.Sleep(500 * time.Millisecond) // sampling, not synchronising
	}
	after := d.footprint()
	elapsed := time.Since(start)
	t.Logf("minilet before: %s", before)
	t.Logf("minilet after %v: %s", elapsed.Round(time.Second), after)

	for _, c := range hostile {
		n := d.probeCount("hostile", c, "Readiness", "failed") - failedBefore[c]
		t.Logf("%s: %d failures in %v", c, n, elapsed.Round(time.Second))
		if min := int(elapsed.Seconds() * 0.6); n < min {
			t.Errorf("%s: %d failed probes in %v with periodSeconds 1 and timeoutSeconds 1, want at least %d: a probe outlives its timeout", c, n, elapsed.Round(time.Second), min)
		}
	}
	if flood := containerStatus(mustPod(d, "hostile"), "flood"); !flood.Ready {
		t.Error("flood is no longer ready")
	}
	total, within := d.readinessDurations(2.5)
	t.Logf("readiness probe runs: %d, of which %d took 2.5 s or less", total, within)
	if total == 0 || within != total {
		t.Errorf("%d of %d readiness probe runs took longer than 2.5 s with timeoutSeconds 1", total-within, total)
	}

	// In the window each hostile probe ran about 25 times; a leak of one
	// descriptor or goroutine per run would add 100 or more.
	if after.fds > before.fds+12 {
		t.Errorf("minilet's open file descriptors grew from %d to %d over %v of hostile probes", before.fds, after.fds, elapsed.Round(time.Second))
	}
	if after.goroutines > before.goroutines+25 {
		t.Errorf("minilet's goroutines grew from %d to %d over %v of hostile probes", before.goroutines, after.goroutines, elapsed.Round(time.Second))
	}
	if after.threads > before.threads+4 {
		t.Errorf("minilet's threads grew from %d to %d", before.threads, after.threads)
	}
	if after.rssKiB > before.rssKiB+16*1024 {
		t.Errorf("minilet's RSS grew from %d KiB to %d KiB", before.rssKiB, after.rssKiB)
	}
	// Connections minilet left open would pile up at the servers that
	// never close them on their side.
	for _, c := range []string{"hang-http", "hang-grpc"} {
		port := map[string]int{"hang-http": 8081, "hang-grpc": 8082}[c]
		if n := establishedTo(t, pids[c], port); n > 3 {
			t.Errorf("%s holds %d established probe connections: minilet does not close timed-out connections", c, n)
		}
	}
}

// footprint is what the daemon holds, each the least of a few samples
// (probes in flight come and go).
type footprint struct{ fds, goroutines, threads, rssKiB int }

func (f footprint) String() string {
	return fmt.Sprintf("%d fds, %d goroutines, %d threads, RSS %d KiB", f.fds, f.goroutines, f.threads, f.rssKiB)
}

func (d *daemon) footprint() footprint {
	d.t.Helper()
	var fds, gs, ths, rss []int
	for i := 0; i < 8; i++ {
		fds = append(fds, d.openFDs())
		gs = append(gs, d.goroutines())
		ths = append(ths, d.procStatusValue("Threads"))
		rss = append(rss, d.procStatusValue("VmRSS"))
		time.Sleep(125 * time.Millisecond) // sampling, not synchronising
	}
	least := func(v []int) int { sort.Ints(v); return v[0] }
	return footprint{least(fds), least(gs), least(ths), least(rss)}
}

// goroutines reads the daemon's goroutine count from /debug/pprof (the
// daemon runs with --pprof).
func (d *daemon) goroutines() int {
	d.t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + d.MetricsAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	if err != nil {
		d.t.Fatalf("goroutine profile: %v", err)
	}
	// "goroutine profile: total 42"
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total ")))
	if err != nil {
		d.t.Fatalf("goroutine profile header %q: %v", line, err)
	}
	return n
}

// readinessDurations reads minilet_probe_duration_seconds of readiness
// probes: how many runs there were, and how many took at most le seconds
// (le must be a bucket bound).
func (d *daemon) readinessDurations(le float64) (total, within int) {
	d.t.Helper()
	bucket := fmt.Sprintf(`minilet_probe_duration_seconds_bucket{probe_type="Readiness",le="%g"} `, le)
	count := `minilet_probe_duration_seconds_count{probe_type="Readiness"} `
	for _, line := range strings.Split(d.metrics(), "\n") {
		if v, ok := strings.CutPrefix(line, bucket); ok {
			within, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, count); ok {
			total, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return total, within
}

// establishedTo counts established TCP connections to a local port in the
// network namespace of process pid, from the kernel's table.
func establishedTo(t *testing.T, pid uint32, port int) int {
	t.Helper()
	n := 0
	for _, file := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		if err != nil {
			if file == "tcp6" {
				continue
			}
			t.Fatal(err)
		}
		suffix := fmt.Sprintf(":%04X", port)
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[1], suffix) && f[3] == "01" {
				n++
			}
		}
	}
	return n
}

func mustPod(d *daemon, name string) *v1.Pod {
	d.t.Helper()
	p, err := d.pod("default", name)
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}
