package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// TestInitContainersRunInOrder: init containers run one at a time, in
// order, to completion, before the app container starts.
func TestInitContainersRunInOrder(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("init.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: first
    image: %[1]s
    command: ["sh", "-c", "sleep 0.3; echo first >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: %[1]s
    command: ["sh", "-c", "echo second >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "echo app >> /work/order; exec sleep 3600"]
    volumeMounts: [{name: work, mountPath: /work}]
`, BusyboxImage))
	p := d.waitPod("init", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	order, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/work/order", pids["app"]))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(order)); strings.Join(got, ",") != "first,second,app" {
		t.Fatalf("run order %v, want first,second,app", got)
	}
	var prevFinish time.Time
	for _, cs := range p.Status.InitContainerStatuses {
		term := cs.State.Terminated
		if term == nil || term.Reason != "Completed" || term.ExitCode != 0 {
			t.Fatalf("init container %s: %+v", cs.Name, cs.State)
		}
		if term.StartedAt.Time.Before(prevFinish) {
			t.Errorf("init container %s started at %v, before the previous one finished at %v", cs.Name, term.StartedAt, prevFinish)
		}
		prevFinish = term.FinishedAt.Time
	}
	if started := p.Status.ContainerStatuses[0].State.Running.StartedAt.Time; started.Before(prevFinish) {
		t.Errorf("app started at %v, before the last init container finished at %v", started, prevFinish)
	}
	checkConditions(t, p, v1.PodInitialized, v1.ConditionTrue)
}

// TestShareProcessNamespace: with shareProcessNamespace the containers join
// the pause container's pid namespace, where pause is PID 1.
func TestShareProcessNamespace(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("shared.yaml", sleeperPod("shared", "  shareProcessNamespace: true\n"))
	p := d.waitPod("shared", 60*time.Second, "runs", allRunning)
	pause, pids := d.pids(p)
	if got, want := nsInode(t, pids["main"], "pid"), nsInode(t, pause, "pid"); got != want {
		t.Fatalf("pid namespace %s, pause has %s", got, want)
	}
	if nsInode(t, pause, "pid") == nsInode(t, uint32(os.Getpid()), "pid") {
		t.Fatal("the pod shares the host's pid namespace")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pause))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "NSpid:\t"+fmt.Sprint(pause)+"\t1\n") {
		t.Errorf("pause is not PID 1 of the pod's pid namespace:\n%s", status)
	}
}

// TestHostPortAndHostNetwork: a hostPort answers on the host's address; a
// hostNetwork pod shares the host's network namespace.
func TestHostPortAndHostNetwork(t *testing.T) {
	d := startDaemon(t)
	port := 19000 + d.n
	d.writeManifest("hp.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080, hostPort: %d}]
`, BusyboxImage, port))
	d.writeManifest("hn.yaml", sleeperPod("hn", "  hostNetwork: true\n"))
	hp := d.waitPod("hp", 60*time.Second, "runs", allRunning)
	hn := d.waitPod("hn", 60*time.Second, "runs", allRunning)

	addr := net.JoinHostPort(hp.Status.HostIP, fmt.Sprint(port))
	d.eventually(10*time.Second, "the hostPort answers on "+addr, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.0\r\n\r\n")
		buf := make([]byte, 512)
		n, _ := c.Read(buf)
		if !strings.Contains(string(buf[:n]), "200") {
			return fmt.Errorf("answer: %q", buf[:n])
		}
		return nil
	})

	_, pids := d.pids(hn)
	if got, want := nsInode(t, pids["main"], "net"), nsInode(t, uint32(os.Getpid()), "net"); got != want {
		t.Errorf("hostNetwork pod: net namespace %s, host has %s", got, want)
	}
	if hn.Status.PodIP != hn.Status.HostIP {
		t.Errorf("hostNetwork pod IP %s, want the host IP %s", hn.Status.PodIP, hn.Status.HostIP)
	}
	if _, err := os.Stat(filepath.Join(d.RunDir, "netns")); err == nil {
		ents, _ := os.ReadDir(filepath.Join(d.RunDir, "netns"))
		if len(ents) != 1 {
			t.Errorf("netns files: %v, want only the hostPort pod's", ents)
		}
	}
}

// TestFSGroupOnEmptyDir: with fsGroup, an emptyDir belongs to that group
// with the setgid bit (drwxrwsrwx), so files a non-root container makes
// there are the group's, as under the kubelet; the container's process
// has the group among its supplementary groups.
func TestFSGroupOnEmptyDir(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("fsgroup.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: fsgroup}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "touch /data/made-by-app; exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
`, BusyboxImage))
	p := d.waitPod("fsgroup", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	root := fmt.Sprintf("/proc/%d/root/data", pids["app"])
	var made os.FileInfo
	d.eventually(10*time.Second, "the container made its file", func() error {
		var err error
		made, err = os.Stat(filepath.Join(root, "made-by-app"))
		return err
	})
	dir, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	if gid := dir.Sys().(*syscall.Stat_t).Gid; gid != 2000 || dir.Mode()&os.ModeSetgid == 0 || dir.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir: group %d, mode %v; want group 2000, drwxrwsrwx", gid, dir.Mode())
	}
	st := made.Sys().(*syscall.Stat_t)
	if st.Uid != 1000 || st.Gid != 2000 {
		t.Errorf("file made by the container: owner %d:%d, want 1000:2000 (the directory's setgid)", st.Uid, st.Gid)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids["app"]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nGroups:\t2000") {
		t.Errorf("the process lacks the fsGroup among its groups:\n%s", status)
	}
}
