package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/node"
	"github.com/minilet/minilet/pkg/server"
)

// nodeTestSource is a daemon's pods and node, which the test changes
// while the server reads them. Drain cordons and marks every pod
// Succeeded.
type nodeTestSource struct {
	mu       sync.Mutex
	pods     []v1.Pod
	cordoned bool
	drains   []*int64
}

func newNodeTestSource() *nodeTestSource {
	return &nodeTestSource{pods: cliTestPods().pods}
}

func (s *nodeTestSource) Pods() []v1.Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]v1.Pod(nil), s.pods...)
}

func (s *nodeTestSource) Events(string, string) []v1.Event { return nil }

func (s *nodeTestSource) setPods(pods ...v1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods = pods
}

func (s *nodeTestSource) Node(context.Context) (v1.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := node.Info{
		Name: "node1", Labels: map[string]string{"disk": "ssd"}, MiniletVersion: "v0.3.0",
		RuntimeVersion: "containerd://1.7.35", InternalIP: "192.168.1.10", Created: time.Now().Add(-50 * time.Hour),
		System: node.SystemInfo{KernelVersion: "6.8.0-45-generic", OSImage: "Ubuntu 24.04.1 LTS"},
	}
	host := node.HostStats{NumCPU: 4, MemoryTotal: 16 << 30, MemoryAvailable: 8 << 30, FsCapacity: 100 << 30, FsAvailable: 50 << 30}
	return node.Build(info, host, node.OperatorSpec{Cordoned: s.cordoned}, time.Now()), nil
}

func (s *nodeTestSource) SetCordoned(_ context.Context, c bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cordoned = c
	return nil
}

func (s *nodeTestSource) Drain(_ context.Context, grace *int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cordoned = true
	s.drains = append(s.drains, grace)
	for i := range s.pods {
		s.pods[i].Status.Phase = v1.PodSucceeded
	}
	return nil
}

// PatchNode is not used by these tests: the integration tests patch a
// real node.
func (s *nodeTestSource) PatchNode(ctx context.Context, _ []byte) (v1.Node, error) {
	return s.Node(ctx)
}

func (s *nodeTestSource) state() (bool, []*int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cordoned, append([]*int64(nil), s.drains...)
}

// runSub runs one subcommand, made by newCmd, against the daemon in
// runDir: the node commands are tested before main.go registers them.
func runSub(t *testing.T, runDir string, newCmd func(*globalFlags) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newCmd(&globalFlags{runDir: runDir})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestNodeCommand(t *testing.T) {
	src := newNodeTestSource()
	dir := startCLITestDaemon(t, src)

	out, _, err := runSub(t, dir, newNodeCommand)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}, {"node1", "Ready", "<none>", "2d2h", "v0.3.0"}}
	if !equalRows(fields(out), want) {
		t.Errorf("minilet node:\n%s", out)
	}

	out, _, err = runSub(t, dir, newNodeCommand, "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	want = [][]string{
		{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"},
		{"node1", "Ready", "<none>", "2d2h", "v0.3.0", "192.168.1.10", "<none>", "Ubuntu", "24.04.1", "LTS", "6.8.0-45-generic", "containerd://1.7.35"},
	}
	if !equalRows(fields(out), want) {
		t.Errorf("minilet node -o wide:\n%s", out)
	}

	out, _, err = runSub(t, dir, newNodeCommand, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var n v1.Node
	if err := json.Unmarshal([]byte(out), &n); err != nil || n.Kind != "Node" || n.Labels["disk"] != "ssd" || n.Labels["kubernetes.io/hostname"] != "node1" {
		t.Fatalf("minilet node -o json: %v\n%s", err, out)
	}
	if q := n.Status.Capacity[v1.ResourcePods]; q.String() != "110" || len(n.Status.Conditions) != 4 {
		t.Errorf("capacity %v conditions %v", n.Status.Capacity, n.Status.Conditions)
	}

	out, _, err = runSub(t, dir, newNodeCommand, "-o", "yaml")
	if err != nil || !strings.Contains(out, "kind: Node\n") || !strings.Contains(out, "containerRuntimeVersion: containerd://1.7.35\n") {
		t.Errorf("minilet node -o yaml: %v\n%s", err, out)
	}

	if _, _, err := runSub(t, dir, newNodeCommand, "node2"); err == nil || err.Error() != `Error from server (NotFound): nodes "node2" not found` {
		t.Errorf("another node: %v", err)
	}
	if _, _, err := runSub(t, dir, newNodeCommand, "-o", "xml"); err == nil || !strings.Contains(err.Error(), `output format "xml"`) {
		t.Errorf("bad format: %v", err)
	}
}

func TestGetNodes(t *testing.T) {
	dir := startCLITestDaemon(t, newNodeTestSource())
	for _, args := range [][]string{{"get", "nodes"}, {"get", "node", "node1"}, {"get", "no"}, {"get", "node/node1"}} {
		out, errOut, err := runCLI(t, dir, args...)
		if err != nil || errOut != "" {
			t.Errorf("%v: %v %q", args, err, errOut)
			continue
		}
		if rows := fields(out); len(rows) != 2 || rows[1][0] != "node1" || rows[1][1] != "Ready" {
			t.Errorf("%v:\n%s", args, out)
		}
	}
	out, _, err := runCLI(t, dir, "get", "nodes", "-o", "json")
	if err != nil || !strings.Contains(out, `"kind": "List"`) {
		t.Errorf("get nodes -o json is a List: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, dir, "get", "node", "node1", "-o", "json")
	if err != nil || !strings.Contains(out, `"kind": "Node"`) {
		t.Errorf("get node NAME -o json is a Node: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, dir, "get", "nodes", "--show-labels", "--no-headers")
	if err != nil || !strings.Contains(out, "disk=ssd,kubernetes.io/arch=") || strings.Contains(out, "NAME") {
		t.Errorf("get nodes --show-labels --no-headers: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, dir, "get", "node/node1", "pod/web"); err == nil || !strings.Contains(err.Error(), "must all name nodes") {
		t.Errorf("mixed resources: %v", err)
	}
	if _, _, err := runCLI(t, dir, "get", "nodes", "nope"); err == nil || err.Error() != `Error from server (NotFound): nodes "nope" not found` {
		t.Errorf("missing node: %v", err)
	}
	if _, _, err := runCLI(t, dir, "get", "nodes", "-w"); err == nil {
		t.Error("get nodes -w: no error")
	}
	// Pods still work.
	if out, _, err := runCLI(t, dir, "get", "pods", "-o", "name"); err != nil || out != "pod/db\npod/web\n" {
		t.Errorf("get pods after nodes: %v %q", err, out)
	}
}

func TestCordonUncordon(t *testing.T) {
	src := newNodeTestSource()
	dir := startCLITestDaemon(t, src)
	for _, tc := range []struct {
		newCmd   func(*globalFlags) *cobra.Command
		args     []string
		want     string
		cordoned bool
	}{
		{newCordonCommand, nil, "node/node1 cordoned\n", true},
		{newCordonCommand, []string{"node1"}, "node/node1 already cordoned\n", true},
		{newUncordonCommand, nil, "node/node1 uncordoned\n", false},
		{newUncordonCommand, nil, "node/node1 already uncordoned\n", false},
	} {
		out, _, err := runSub(t, dir, tc.newCmd, tc.args...)
		if err != nil || out != tc.want {
			t.Errorf("%v: %v %q, want %q", tc.args, err, out, tc.want)
		}
		if c, _ := src.state(); c != tc.cordoned {
			t.Errorf("after %q: cordoned %v", tc.want, c)
		}
	}

	// The table shows it.
	if _, _, err := runSub(t, dir, newCordonCommand); err != nil {
		t.Fatal(err)
	}
	out, _, _ := runSub(t, dir, newNodeCommand, "--no-headers")
	if f := fields(out); len(f) != 1 || f[0][1] != "Ready,SchedulingDisabled" {
		t.Errorf("cordoned node:\n%s", out)
	}

	if _, _, err := runSub(t, dir, newCordonCommand, "node2"); err == nil || err.Error() != `Error from server (NotFound): nodes "node2" not found` {
		t.Errorf("cordon another node: %v", err)
	}
	if _, _, err := runSub(t, dir, newCordonCommand, "a", "b"); err == nil {
		t.Error("two nodes: no error")
	}
}

func TestDrain(t *testing.T) {
	src := newNodeTestSource()
	dir := startCLITestDaemon(t, src)
	out, _, err := runSub(t, dir, newDrainCommand, "--grace-period", "5")
	if err != nil {
		t.Fatal(err)
	}
	want := `node/node1 cordoned
evicting pod default/db
evicting pod default/web
evicting pod kube-system/dns
pod/db evicted
pod/web evicted
pod/dns evicted
node/node1 drained
`
	if out != want {
		t.Errorf("drain:\n%s\nwant\n%s", out, want)
	}
	cordoned, drains := src.state()
	if !cordoned || len(drains) != 1 || drains[0] == nil || *drains[0] != 5 {
		t.Errorf("cordoned %v, drains %v", cordoned, drains)
	}

	// Again: already cordoned, nothing left to evict, the pod's own grace.
	out, _, err = runSub(t, dir, newDrainCommand, "node1", "--timeout", "1m")
	if err != nil || out != "node/node1 already cordoned\nnode/node1 drained\n" {
		t.Errorf("second drain: %v\n%s", err, out)
	}
	if _, drains := src.state(); len(drains) != 2 || drains[1] != nil {
		t.Errorf("drains %v", drains)
	}
}

func TestDescribeNode(t *testing.T) {
	dir := startCLITestDaemon(t, newNodeTestSource())
	out, _, err := runSub(t, dir, func(g *globalFlags) *cobra.Command {
		return &cobra.Command{Use: "describe", RunE: func(cmd *cobra.Command, args []string) error { return runDescribeNode(cmd, g, args) }}
	}, "node1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Name:               node1\n", "Unschedulable:      false\n", "Non-terminated Pods:          (3 in total)\n", "  Ready            True "} {
		if !strings.Contains(out, want) {
			t.Errorf("describe node lacks %q:\n%s", want, out)
		}
	}
}

func TestNodeCommandsWithoutNodeController(t *testing.T) {
	dir := startCLITestDaemon(t, cliTestPods())
	_, _, err := runSub(t, dir, newNodeCommand)
	if err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("node of a daemon without node support: %v", err)
	}
}

var _ server.NodeController = (*nodeTestSource)(nil)
