package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestCrashStorm: 50 pods crash-looping at once do not starve the probes of
// a healthy pod (no restart, ready all along) or make minilet's memory grow
// without bound.
func TestCrashStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--crash-loop-backoff-max", "10s")
	d.start()
	d.writeManifest("healthy.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: healthy}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    livenessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3}
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1, timeoutSeconds: 1}
`, BusyboxImage))
	d.waitPod("healthy", 60*time.Second, "is ready", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 || !p.Status.ContainerStatuses[0].Ready {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	var storm strings.Builder
	for i := 0; i < 50; i++ {
		if i > 0 {
			storm.WriteString("---\n")
		}
		storm.WriteString(strings.Replace(sleeperPod(fmt.Sprintf("crash-%d", i), ""), `["sleep", "3600"]`, `["sh", "-c", "exit 1"]`, 1))
	}
	d.writeManifest("storm.yaml", storm.String())
	d.eventually(120*time.Second, "every storm pod has crashed at least twice", func() error {
		for i := 0; i < 50; i++ {
			p, err := d.pod("default", fmt.Sprintf("crash-%d", i))
			if err != nil {
				return err
			}
			if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount < 2 {
				return fmt.Errorf("crash-%d has not restarted twice", i)
			}
		}
		return nil
	})
	rss1 := d.rssKiB()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p, err := d.pod("default", "healthy")
		if err != nil {
			t.Fatal(err)
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 0 || !cs.Ready {
			t.Fatalf("the healthy pod suffered from the storm: restarts %d ready %v", cs.RestartCount, cs.Ready)
		}
		time.Sleep(200 * time.Millisecond) // sampling the status over the storm, not synchronising
	}
	rss2 := d.rssKiB()
	t.Logf("minilet RSS during the storm: %d KiB, 20s later %d KiB", rss1, rss2)
	if rss2 > rss1+20*1024 {
		t.Errorf("minilet's memory grew by %d KiB in 20 s of crash storm", rss2-rss1)
	}
}

// rssKiB is the daemon's resident memory.
func (d *daemon) rssKiB() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.daemonPID()))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}
