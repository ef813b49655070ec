package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestLifecycleHooks: postStart runs after the container starts, preStop
// before it is stopped (with an httpGet hook too), and a failing postStart
// kills the container, which is restarted.
func TestLifecycleHooks(t *testing.T) {
	d := startDaemon(t)
	marks := filepath.Join(d.Dir, "marks")
	if err := os.MkdirAll(marks, 0o755); err != nil {
		t.Fatal(err)
	}
	d.writeManifest("hooks.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 5
  volumes: [{name: marks, hostPath: {path: %[2]s}}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho stopped > /marks/prestop-http\\necho Content-Type: text/plain\\necho\\necho ok\\n' > /www/cgi-bin/stop && chmod +x /www/cgi-bin/stop && exec httpd -f -p 8080 -h /www"]
    volumeMounts: [{name: marks, mountPath: /marks}]
    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "echo started > /marks/poststart"]}}
      preStop: {httpGet: {path: /cgi-bin/stop, port: 8080}}
  - name: side
    image: %[1]s
    command: ["sleep", "3600"]
    volumeMounts: [{name: marks, mountPath: /marks}]
    lifecycle:
      preStop: {exec: {command: ["sh", "-c", "echo stopping > /marks/prestop"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %[1]s
    command: ["sleep", "3600"]
    lifecycle:
      postStart: {exec: {command: ["false"]}}
`, BusyboxImage, marks))
	d.waitPod("hooks", 60*time.Second, "runs", allRunning)
	if b, err := os.ReadFile(filepath.Join(marks, "poststart")); err != nil || strings.TrimSpace(string(b)) != "started" {
		t.Errorf("postStart did not run: %q %v", b, err)
	}
	d.waitPod("badhook", 60*time.Second, "restarted after its postStart failed", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount < 1 {
			return fmt.Errorf("no restart yet")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := d.Client.PodEvents(ctx, "default", "badhook")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs.Items {
		found = found || e.Reason == "FailedPostStartHook"
	}
	if !found {
		t.Errorf("no FailedPostStartHook event: %+v", evs.Items)
	}

	d.removeManifest("hooks.yaml")
	d.waitGone("hooks", 30*time.Second)
	if b, err := os.ReadFile(filepath.Join(marks, "prestop")); err != nil || strings.TrimSpace(string(b)) != "stopping" {
		t.Errorf("preStop exec did not run: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(marks, "prestop-http")); err != nil || strings.TrimSpace(string(b)) != "stopped" {
		t.Errorf("preStop httpGet did not run: %q %v", b, err)
	}
}
