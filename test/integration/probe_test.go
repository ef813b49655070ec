package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestProbes runs real probes against real containers: an httpGet
// readiness probe makes a pod Ready; a tcpSocket readiness probe on a closed
// port keeps another not Ready; an exec liveness probe that starts failing
// gets its container killed and restarted, with an Unhealthy event and the
// LivenessProbe restart reason in the metrics.
func TestProbes(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("probes.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: %[1]s
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
  - name: closed
    image: %[1]s
    command: ["sleep", "3600"]
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "touch /tmp/healthy; sleep 1; rm /tmp/healthy; exec sleep 3600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
`, BusyboxImage))

	ready := d.waitPod("ready", 60*time.Second, "has web ready", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) != 2 || !p.Status.ContainerStatuses[0].Ready {
			return fmt.Errorf("web not ready: %+v", p.Status.ContainerStatuses)
		}
		return nil
	})
	if cs := ready.Status.ContainerStatuses[1]; cs.Name != "closed" || cs.Ready {
		t.Errorf("closed must not be ready: %+v", cs)
	}
	checkConditions(t, ready, v1.PodReady, v1.ConditionFalse)

	live := d.waitPod("live", 60*time.Second, "was restarted by its liveness probe", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount < 1 {
			return fmt.Errorf("no restart yet")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := d.Client.PodEvents(ctx, "default", live.Name)
	if err != nil {
		t.Fatal(err)
	}
	var unhealthy, killing bool
	for _, e := range evs.Items {
		unhealthy = unhealthy || (e.Reason == "Unhealthy" && strings.HasPrefix(e.Message, "Liveness probe failed"))
		killing = killing || (e.Reason == "Killing" && strings.Contains(e.Message, "failed liveness probe"))
	}
	if !unhealthy || !killing {
		t.Errorf("events lack Unhealthy/Killing: %+v", evs.Items)
	}
	// describe shows them with the kubelet's reasons, as kubectl does.
	desc := d.cli("describe", "pod", "live")
	for _, want := range []string{"Events:", "Pulled", "Created", "Started", "Unhealthy", "Killing", "Liveness probe failed", "Liveness:", "exec [cat /tmp/healthy]"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe pod lacks %q:\n%s", want, desc)
		}
	}
	d.eventually(10*time.Second, "the restart is counted as a liveness restart", func() error {
		if out := d.metrics(); !strings.Contains(out, `minilet_container_restarts_total{container="app",namespace="default",pod="live",reason="LivenessProbe"}`) {
			return fmt.Errorf("no LivenessProbe restart in:\n%s", grepMinilet(out))
		}
		return nil
	})
	if out := d.metrics(); !strings.Contains(out, `minilet_probe_total{container="web",namespace="default",pod="ready",probe_type="Readiness",result="successful"}`) {
		t.Errorf("no successful readiness probe counted:\n%s", grepMinilet(out))
	}
}
