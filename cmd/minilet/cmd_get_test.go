package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/minilet/minilet/pkg/server"
)

// cliTestSource is a fixed set of pods and events for the CLI tests.
type cliTestSource struct {
	pods   []v1.Pod
	events map[string][]v1.Event
}

func (s *cliTestSource) Pods() []v1.Pod                    { return s.pods }
func (s *cliTestSource) Events(ns, name string) []v1.Event { return s.events[ns+"/"+name] }

func cliTestPods() *cliTestSource {
	created := metav1.NewTime(time.Now().Add(-time.Hour))
	pod := func(ns, name string, cs v1.ContainerStatus) v1.Pod {
		cs.Name = "app"
		return v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: created, Labels: map[string]string{"app": name}},
			Spec:       v1.PodSpec{NodeName: "node1", Containers: []v1.Container{{Name: "app", Image: "nginx:1.27"}}},
			Status:     v1.PodStatus{Phase: v1.PodRunning, PodIPs: []v1.PodIP{{IP: "10.85.0.9"}}, ContainerStatuses: []v1.ContainerStatus{cs}},
		}
	}
	run := v1.ContainerStatus{Ready: true, State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: created}}}
	crash := v1.ContainerStatus{RestartCount: 4, State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}
	return &cliTestSource{
		pods: []v1.Pod{
			pod("default", "db", crash),
			pod("default", "web", run),
			pod("kube-system", "dns", run),
		},
		events: map[string][]v1.Event{"default/web": {{
			Type: "Normal", Reason: "Started", Message: "Started container app", Count: 1,
			FirstTimestamp: created, LastTimestamp: created, Source: v1.EventSource{Component: "minilet"},
		}}},
	}
}

// startCLITestDaemon serves src on a socket in a temporary run directory,
// ready when it returns, and returns the directory.
func startCLITestDaemon(t *testing.T, src server.PodSource) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := server.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o := server.Options{Pods: src}
	o.ManifestErrors, _ = src.(server.ManifestErrorSource)
	o.Logs, _ = src.(server.LogLocator)
	o.Node, _ = src.(server.NodeController)
	go func() { done <- server.New(o).ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return dir
}

// runCLI runs the root command with args against the daemon in runDir.
func runCLI(t *testing.T, runDir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"--run-dir", runDir}, args...))
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// fields splits output into lines of whitespace-separated fields.
func fields(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestGetPodsTable(t *testing.T) {
	dir := startCLITestDaemon(t, cliTestPods())
	for _, tc := range []struct {
		args []string
		want [][]string
	}{
		{[]string{"get", "pods"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"db", "0/1", "CrashLoopBackOff", "4", "60m"},
			{"web", "1/1", "Running", "0", "60m"},
		}},
		{[]string{"get", "po", "web"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"web", "1/1", "Running", "0", "60m"},
		}},
		{[]string{"get", "pods", "-A"}, [][]string{
			{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"default", "db", "0/1", "CrashLoopBackOff", "4", "60m"},
			{"default", "web", "1/1", "Running", "0", "60m"},
			{"kube-system", "dns", "1/1", "Running", "0", "60m"},
		}},
		{[]string{"get", "-n", "kube-system", "pod"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"dns", "1/1", "Running", "0", "60m"},
		}},
		{[]string{"get", "pods", "web", "-o", "wide", "--show-labels"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES", "LABELS"},
			{"web", "1/1", "Running", "0", "60m", "10.85.0.9", "node1", "<none>", "<none>", "app=web"},
		}},
		{[]string{"get", "pod/web", "pods/db", "-o", "name"}, [][]string{{"pod/web"}, {"pod/db"}}},
		{[]string{"get", "pods", "--no-headers"}, [][]string{
			{"db", "0/1", "CrashLoopBackOff", "4", "60m"},
			{"web", "1/1", "Running", "0", "60m"},
		}},
	} {
		out, errOut, err := runCLI(t, dir, tc.args...)
		if err != nil || errOut != "" {
			t.Errorf("%v: %v, stderr %q", tc.args, err, errOut)
			continue
		}
		if got := fields(out); !equalRows(got, tc.want) {
			t.Errorf("%v:\n%s\nwant rows %v", tc.args, out, tc.want)
		}
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], " ") != strings.Join(b[i], " ") {
			return false
		}
	}
	return true
}

func TestGetPodsStructuredOutput(t *testing.T) {
	dir := startCLITestDaemon(t, cliTestPods())

	// Flags after the name.
	out, _, err := runCLI(t, dir, "get", "pods", "web", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var pod v1.Pod
	if err := json.Unmarshal([]byte(out), &pod); err != nil || pod.Kind != "Pod" || pod.Name != "web" {
		t.Fatalf("get pods web -o json: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n") {
		t.Errorf("JSON is not kubectl-shaped:\n%s", out)
	}

	out, _, err = runCLI(t, dir, "get", "pods", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string
		Items []v1.Pod
	}
	if err := yaml.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 {
		t.Fatalf("get pods -o yaml: %v\n%s", err, out)
	}

	// Nothing found: json/yaml print an empty List, silently.
	out, errOut, err := runCLI(t, dir, "get", "pods", "-n", "empty", "-o", "json")
	if err != nil || errOut != "" || !strings.Contains(out, `"kind": "List"`) {
		t.Errorf("empty namespace -o json: %v %q\n%s", err, errOut, out)
	}
}

func TestGetPodsErrors(t *testing.T) {
	dir := startCLITestDaemon(t, cliTestPods())

	_, _, err := runCLI(t, dir, "get", "pods", "nope")
	if err == nil || err.Error() != `Error from server (NotFound): pods "nope" not found` {
		t.Errorf("missing pod: %v", err)
	}

	// Found pods print; the missing ones are the error.
	out, _, err := runCLI(t, dir, "get", "pods", "web", "nope", "-o", "name")
	if out != "pod/web\n" || err == nil || err.Error() != `Error from server (NotFound): pods "nope" not found` {
		t.Errorf("one found, one missing: %q %v", out, err)
	}

	out, errOut, err := runCLI(t, dir, "get", "pods", "-n", "empty")
	if err != nil || out != "" || errOut != "No resources found in empty namespace.\n" {
		t.Errorf("empty namespace: %v %q %q", err, out, errOut)
	}
	_, errOut, _ = runCLI(t, dir, "get", "pods")
	if errOut != "" {
		t.Errorf("stderr with pods found: %q", errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get"}, "you must specify the type of resource to get"},
		{[]string{"get", "services"}, `the server doesn't have a resource type "services"`},
		{[]string{"get", "svc/web"}, `the server doesn't have a resource type "svc"`},
		{[]string{"get", "pods", "-o", "xml"}, `output format "xml"`},
		{[]string{"get", "pods", "web", "-A"}, "cannot be retrieved by name across all namespaces"},
	} {
		if _, _, err := runCLI(t, dir, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestGetWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runCLI(t, dir, "get", "pods")
	want := "cannot reach the minilet daemon at " + server.SocketPath(dir) + ": is it running? (set --run-dir or MINILET_RUN_DIR)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
