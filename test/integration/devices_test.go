package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
)

// TestCDIExtendedResources: a CDI spec the test writes, whose devices are
// character device nodes it made, makes an extended resource: the node
// counts it in allocatable, a pod that asks for one gets a device node
// inside, a pod asking for more than is free is refused as the kubelet
// refuses it, and a removed pod's device goes to the next pod; a daemon
// restart keeps who holds what.
func TestCDIExtendedResources(t *testing.T) {
	d := startDaemon(t)
	dir := filepath.Join(d.RootDir, "..", "cdi")
	nodes := filepath.Join(d.RootDir, "..", "devnodes")
	for _, p := range []string{dir, nodes} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var devs strings.Builder
	for i := 0; i < 2; i++ {
		host := filepath.Join(nodes, fmt.Sprintf("widget%d", i))
		// A copy of /dev/null (1:3): a real character device.
		if err := unix.Mknod(host, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		fmt.Fprintf(&devs, "- name: w%d\n  containerEdits:\n    deviceNodes:\n    - {path: /dev/widget%d, hostPath: %s, type: c, major: 1, minor: 3, permissions: rw}\n", i, i, host)
	}
	spec := "cdiVersion: \"0.6.0\"\nkind: minilet.test/widget\ndevices:\n" + devs.String() + "containerEdits:\n  env: [WIDGETS=yes]\n"
	if err := os.WriteFile(filepath.Join(dir, "widgets.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGTERM)
	d.start("--cdi-spec-dirs", dir, "--node-extended-resources", "minilet.test/license=1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := d.Client.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q := n.Status.Allocatable["minilet.test/widget"]; q.Value() != 2 {
		t.Fatalf("allocatable widgets: %v (node %+v)", q.String(), n.Status.Allocatable)
	}
	if q := n.Status.Capacity["minilet.test/license"]; q.Value() != 1 {
		t.Fatalf("capacity of the counted resource: %v", q.String())
	}
	pod := func(name string, widgets int) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %s
    command: [sleep, "3600"]
    resources: {limits: {minilet.test/widget: %d}}
`, name, BusyboxImage, widgets)
	}
	widgetsOf := func(p *v1.Pod) []string {
		_, pids := d.pids(p)
		var out []string
		for i := 0; i < 2; i++ {
			path := fmt.Sprintf("/proc/%d/root/dev/widget%d", pids["app"], i)
			if fi, err := os.Stat(path); err == nil {
				if fi.Mode()&os.ModeCharDevice == 0 {
					t.Errorf("%s is not a character device: %v", path, fi.Mode())
				}
				out = append(out, fmt.Sprintf("widget%d", i))
			}
		}
		return out
	}
	d.writeManifest("one.yaml", pod("one", 1))
	one := d.waitPod("one", 60*time.Second, "runs", allRunning)
	gotOne := widgetsOf(one)
	if len(gotOne) != 1 {
		t.Fatalf("pod one sees widgets %v, want exactly one", gotOne)
	}
	_, pids := d.pids(one)
	if env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids["app"])); !strings.Contains(string(env), "WIDGETS=yes") {
		t.Errorf("the spec's env is not in the container: %q", env)
	}
	d.writeManifest("big.yaml", pod("big", 2))
	d.waitPod("big", 30*time.Second, "is refused", failedWith("OutOfminilet.test/widget",
		"Node didn't have enough resource: minilet.test/widget, requested: 2, used: 1, capacity: 2"))
	d.writeManifest("two.yaml", pod("two", 1))
	two := d.waitPod("two", 60*time.Second, "runs", allRunning)
	if gotTwo := widgetsOf(two); len(gotTwo) != 1 || gotTwo[0] == gotOne[0] {
		t.Fatalf("pod two sees %v, pod one %v: want the other widget", gotTwo, gotOne)
	}
	d.removeManifest("one.yaml")
	d.waitGone("one", 60*time.Second)
	d.writeManifest("three.yaml", pod("three", 1))
	three := d.waitPod("three", 60*time.Second, "runs with the freed widget", allRunning)
	if got := widgetsOf(three); len(got) != 1 || got[0] != gotOne[0] {
		t.Fatalf("pod three sees %v, want %v (pod one's)", got, gotOne)
	}
	// After a daemon restart, two and three still hold theirs.
	d.signal(syscall.SIGTERM)
	d.start("--cdi-spec-dirs", dir)
	d.writeManifest("four.yaml", pod("four", 1))
	d.waitPod("four", 30*time.Second, "is refused", failedWith("OutOfminilet.test/widget", "used: 2, capacity: 2"))

	// A pod that has completed holds nothing, as on the kubelet.
	d.removeManifest("three.yaml")
	d.waitGone("three", 60*time.Second)
	d.writeManifest("once.yaml", strings.Replace(strings.Replace(pod("once", 1), "command: [sleep, \"3600\"]", "command: [\"true\"]", 1),
		"terminationGracePeriodSeconds: 0", "terminationGracePeriodSeconds: 0\n  restartPolicy: Never", 1))
	d.waitPod("once", 60*time.Second, "completes", func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodSucceeded {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		return nil
	})
	d.writeManifest("five.yaml", pod("five", 1))
	d.waitPod("five", 60*time.Second, "runs with the completed pod's widget", allRunning)
}
