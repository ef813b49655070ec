package integration

// Twin of the kubelet's probe stress e2e case: many containers probed
// every second over HTTP, TCP and gRPC, none restarted.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestE2EProbeStress: a pod of 10 containers, each with a liveness probe
// of period 1, timeout 1, failureThreshold 3 (four over HTTP, three over
// TCP, three over gRPC), runs for 15 s without a restart and stays
// Ready; every probe runs about once a second.
func TestE2EProbeStress(t *testing.T) {
	t.Parallel()
	d := startE2EDaemon(t)
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: Pod
metadata: {name: stress}
spec:
  terminationGracePeriodSeconds: 1
  containers:
`)
	var names []string
	add := func(name string, args, probe string) {
		names = append(names, name)
		fmt.Fprintf(&b, `  - name: %s
    image: %s
    args: %s
    livenessProbe:
      %s
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 3
`, name, AgnhostImage, args, probe)
	}
	for i := 0; i < 4; i++ {
		port := 8081 + i
		add(fmt.Sprintf("http-%d", i), fmt.Sprintf(`["webserver", "--port", "%d"]`, port), fmt.Sprintf("httpGet: {path: /, port: %d}", port))
	}
	for i := 0; i < 3; i++ {
		port := 8091 + i
		add(fmt.Sprintf("tcp-%d", i), fmt.Sprintf(`["webserver", "--port", "%d"]`, port), fmt.Sprintf("tcpSocket: {port: %d}", port))
	}
	for i := 0; i < 3; i++ {
		port := 5001 + i
		add(fmt.Sprintf("grpc-%d", i), fmt.Sprintf(`["grpc-health", "--port", "%d"]`, port), fmt.Sprintf("grpc: {port: %d}", port))
	}
	d.writeManifest("stress.yaml", b.String())
	d.waitPod("stress", 90*time.Second, "runs and is Ready", func(p *v1.Pod) error {
		if err := allRunning(p); err != nil {
			return err
		}
		return readyCond(p)
	})
	before := map[string]int{}
	for _, n := range names {
		before[n] = d.probeCount("stress", n, "Liveness", "successful")
	}
	const window = 15 * time.Second
	for start := time.Now(); time.Since(start) < window; time.Sleep(200 * time.Millisecond) {
		p, err := d.pod("default", "stress")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if rc := restartsOf(p, n); rc != 0 {
				t.Fatalf("%s restarted (restartCount %d) %v into the window", n, rc, time.Since(start).Round(time.Millisecond))
			}
		}
		if !isReady(p) {
			t.Fatalf("the pod is not Ready %v into the window: %+v", time.Since(start).Round(time.Millisecond), p.Status.Conditions)
		}
	}
	for _, n := range names {
		ok := d.probeCount("stress", n, "Liveness", "successful") - before[n]
		failed := d.probeCount("stress", n, "Liveness", "failed")
		t.Logf("%s: %d successful probes in %v, %d failed in all", n, ok, window, failed)
		if ok < 11 {
			t.Errorf("%s: only %d successful liveness probes in %v with periodSeconds 1", n, ok, window)
		}
	}
}
