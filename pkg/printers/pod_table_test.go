package printers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func tablePods() []v1.Pod {
	web := makePod(v1.PodRunning, nil, running(true))
	web.Name, web.Labels = "web", map[string]string{"app": "web", "tier": "front"}
	web.Spec.NodeName = "node1"
	web.Status.PodIPs = []v1.PodIP{{IP: "10.85.0.7"}}
	web.CreationTimestamp = ago(53 * time.Hour)

	crash := makePod(v1.PodRunning, nil, waiting("CrashLoopBackOff"))
	crash.Name, crash.Namespace = "crashy", "apps"
	crash.Status.ContainerStatuses[0].RestartCount = 5
	crash.Status.ContainerStatuses[0].LastTerminationState.Terminated = &v1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(5 * time.Minute)}
	crash.CreationTimestamp = ago(3*time.Minute + 20*time.Second)
	crash.Spec.ReadinessGates = []v1.PodReadinessGate{{ConditionType: "example.com/ready"}}
	crash.Status.Conditions = []v1.PodCondition{{Type: "example.com/ready", Status: v1.ConditionTrue}}
	return []v1.Pod{web, crash}
}

func printTable(t *testing.T, pods []v1.Pod, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := PrintPods(&b, pods, opts, testNow); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPodTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"default", Options{}, `
NAME     READY   STATUS             RESTARTS     AGE
web      1/1     Running            0            2d5h
crashy   0/1     CrashLoopBackOff   5 (5m ago)   3m20s
`},
		{"all namespaces", Options{AllNamespaces: true}, `
NAMESPACE   NAME     READY   STATUS             RESTARTS     AGE
default     web      1/1     Running            0            2d5h
apps        crashy   0/1     CrashLoopBackOff   5 (5m ago)   3m20s
`},
		{"wide", Options{Format: FormatWide}, `
NAME     READY   STATUS             RESTARTS     AGE     IP          NODE     NOMINATED NODE   READINESS GATES
web      1/1     Running            0            2d5h    10.85.0.7   node1    <none>           <none>
crashy   0/1     CrashLoopBackOff   5 (5m ago)   3m20s   <none>      <none>   <none>           1/1
`},
		{"labels", Options{ShowLabels: true}, `
NAME     READY   STATUS             RESTARTS     AGE     LABELS
web      1/1     Running            0            2d5h    app=web,tier=front
crashy   0/1     CrashLoopBackOff   5 (5m ago)   3m20s   <none>
`},
		{"no headers", Options{NoHeaders: true}, `
web      1/1   Running            0            2d5h
crashy   0/1   CrashLoopBackOff   5 (5m ago)   3m20s
`},
		{"name", Options{Format: FormatName}, `
pod/web
pod/crashy
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := printTable(t, tablePods(), tc.opts)
			if want := strings.TrimPrefix(tc.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, ok := range []string{"", "wide", "json", "yaml", "name"} {
		if _, err := ParseFormat(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `output format "xml"`) {
		t.Errorf("xml: %v", err)
	}
}
