package integration

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestMetricsAndHealth: /metrics counts the pods and containers, a
// container's restarts, pod start durations and runtime operations, and is
// clean for promtool; /healthz answers.
func TestMetricsAndHealth(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("m.yaml", sleeperPod("steady", "")+"---\n"+strings.Replace(sleeperPod("crashy", ""), `["sleep", "3600"]`, `["sh", "-c", "exit 2"]`, 1))
	d.waitPod("steady", 60*time.Second, "runs", allRunning)
	d.waitPod("crashy", 60*time.Second, "restarted", func(p *v1.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount < 1 {
			return fmt.Errorf("no restart yet")
		}
		return nil
	})
	var out string
	d.eventually(10*time.Second, "metrics show the pods", func() error {
		out = d.metrics()
		for _, want := range []string{
			`minilet_pods{phase="Running"} 2`,
			`minilet_containers{state="running"}`,
			`minilet_container_restarts_total{container="main",namespace="default",pod="crashy",reason="Error"}`,
			`minilet_pod_start_duration_seconds_count `,
			`minilet_runtime_operations_duration_seconds_count{operation="start_container"}`,
			`minilet_build_info{`,
		} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("no %s in:\n%s", want, grepMinilet(out))
			}
		}
		return nil
	})
	if strings.Contains(out, "minilet_pod_start_duration_seconds_count 0") {
		t.Error("no pod start observed")
	}
	if _, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, b)
		}
	}
	resp, err := http.Get("http://" + d.MetricsAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz: %s", resp.Status)
	}

	d.removeManifest("m.yaml")
	d.waitGone("crashy", 30*time.Second)
	d.eventually(10*time.Second, "the removed pod's series are gone", func() error {
		if out := d.metrics(); strings.Contains(out, `pod="crashy"`) {
			return fmt.Errorf("series of crashy still exported")
		}
		return nil
	})
}

func grepMinilet(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "minilet_") && !strings.Contains(l, "_bucket") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
