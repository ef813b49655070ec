package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

const webPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: server
    image: ` + BusyboxImage + `
    command: ["sh", "-c", "echo hello-from-server > /shared/greeting; exec httpd -f -p 8080 -h /shared"]
    ports: [{containerPort: 8080}]
    resources:
      limits: {memory: 64Mi, cpu: 500m}
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: reader
    image: ` + BusyboxImage + `
    command: ["sh", "-c", "until [ -f /data/greeting ]; do sleep 0.1; done; cat /data/greeting; exec sleep 3600"]
    volumeMounts: [{name: shared, mountPath: /data}]
`

// TestPodRunsInSandbox checks a two-container pod from the kernel's side:
// the pause container owns net, ipc and uts, the app containers join them
// (and not the host's), each has its own pid namespace, the pod IP answers,
// an emptyDir written by one container is read by the other, and the memory
// limit reaches the cgroup.
func TestPodRunsInSandbox(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("web.yaml", webPod)
	p := d.waitPod("web", 60*time.Second, "runs", allRunning)

	pause, pids := d.pids(p)
	host := uint32(os.Getpid())
	for _, kind := range []string{"net", "ipc", "uts"} {
		want := nsInode(t, pause, kind)
		if want == nsInode(t, host, kind) {
			t.Errorf("pause shares the host's %s namespace", kind)
		}
		for name, pid := range pids {
			if got := nsInode(t, pid, kind); got != want {
				t.Errorf("container %s: %s namespace %s, pause has %s", name, kind, got, want)
			}
		}
	}
	if nsInode(t, pids["server"], "pid") == nsInode(t, pause, "pid") {
		t.Errorf("without shareProcessNamespace, containers must not share the pause's pid namespace")
	}

	if p.Status.PodIP == "" {
		t.Fatal("no pod IP in status")
	}
	if _, subnet, _ := net.ParseCIDR(d.Subnet); !subnet.Contains(net.ParseIP(p.Status.PodIP)) {
		t.Errorf("pod IP %s is not in the pod CIDR %s", p.Status.PodIP, d.Subnet)
	}
	d.eventually(10*time.Second, "the pod IP answers on 8080", func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(p.Status.PodIP, "8080"), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})

	logFile := filepath.Join(d.LogDir, fmt.Sprintf("default_web_%s", p.UID), "reader", "0.log")
	d.eventually(10*time.Second, "the reader logged the greeting", func() error {
		b, err := os.ReadFile(logFile)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "hello-from-server") {
			return fmt.Errorf("reader log: %q", b)
		}
		return nil
	})

	if got := cgroupFile(t, pids["server"], "memory", "memory.limit_in_bytes", "memory.max"); got != fmt.Sprint(64<<20) {
		t.Errorf("memory limit in cgroup = %s, want %d", got, 64<<20)
	}
	if got := cgroupFile(t, pids["server"], "cpu", "cpu.cfs_quota_us", "cpu.max"); !strings.HasPrefix(got, "50000") {
		t.Errorf("cpu quota in cgroup = %s, want 50000", got)
	}
	hostname, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/hostname", pids["reader"]))
	if err != nil || strings.TrimSpace(string(hostname)) != "web" {
		t.Errorf("/etc/hostname in the pod = %q (%v), want web", hostname, err)
	}
	hosts, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/hosts", pids["reader"]))
	if !strings.Contains(string(hosts), p.Status.PodIP+"\tweb") {
		t.Errorf("/etc/hosts lacks the pod IP and hostname:\n%s", hosts)
	}
	if p.Status.ContainerStatuses[0].ContainerID == "" || p.Status.ContainerStatuses[0].ImageID == "" {
		t.Errorf("container status lacks IDs: %+v", p.Status.ContainerStatuses[0])
	}
	checkConditions(t, p, v1.PodReady, v1.ConditionTrue)
}

func checkConditions(t *testing.T, p *v1.Pod, typ v1.PodConditionType, want v1.ConditionStatus) {
	t.Helper()
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			if c.Status != want {
				t.Errorf("condition %s = %s, want %s", typ, c.Status, want)
			}
			return
		}
	}
	t.Errorf("no condition %s in %+v", typ, p.Status.Conditions)
}
