package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReset: `minilet reset` refuses while the daemon runs; once it is
// stopped (its pods still running), reset stops every pod and leaves
// nothing behind: containers, snapshots, images (--images), the containerd
// namespace, network namespaces, IP allocations, iptables rules, the
// bridge and its CNI config, mounts (tmpfs volumes), cgroups, state and
// run directories; the claims' data stays (no --volumes).
func TestReset(t *testing.T) {
	d := startDaemon(t)
	hostPort := 21900 + d.n
	d.writeSecretManifest("all.yaml", fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {token: abc}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: token, secret: {secretName: token}}
  - {name: mem, emptyDir: {medium: Memory}}
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "echo kept > /data/file; exec sleep 3600"]
    ports: [{containerPort: 80, hostPort: %d}]
    volumeMounts: [{name: data, mountPath: /data}, {name: token, mountPath: /token}, {name: mem, mountPath: /mem}]
`, BusyboxImage, hostPort))
	d.writeManifest("other.yaml", sleeperPod("other", ""))
	web := d.waitPod("web", 60*time.Second, "runs", allRunning)
	d.waitPod("other", 60*time.Second, "runs", allRunning)
	webPause, _ := d.pids(web)
	claimFile := filepath.Join(d.RootDir, "volumes", "default", "data", "file")
	d.eventually(10*time.Second, "the claim holds data", func() error {
		_, err := os.Stat(claimFile)
		return err
	})
	if len(iptablesRulesOf(d.Network)) == 0 {
		t.Fatal("no iptables rules for the hostPort: the test would prove nothing")
	}

	reset := func() (string, error) {
		args := append([]string{"--run-dir", d.RunDir, "reset", "--images"}, d.Args[1:]...)
		out, err := exec.Command(env.minilet, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := reset(); err == nil || !strings.Contains(out, "stop it first") {
		t.Fatalf("reset with the daemon running: %v\n%s", err, out)
	}
	d.signal(syscall.SIGTERM)
	if !processAlive(webPause) {
		t.Fatal("stopping the daemon stopped the pods")
	}
	out, err := reset()
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	t.Logf("minilet reset --images:\n%s", out)
	for _, want := range []string{
		"stopping pod default/web", "removed pod default/web", "removed pod default/other",
		"removed image " + BusyboxImage, "removed containerd namespace " + d.Namespace,
		"removed bridge " + d.Bridge, "removed CNI config", "removed " + d.RunDir,
		"kept the data of PersistentVolumeClaims",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reset output lacks %q:\n%s", want, out)
		}
	}

	if processAlive(webPause) {
		t.Error("the pod's pause process still runs")
	}
	if out, _ := env2ctr(d, "containers", "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %q", out)
	}
	if out, _ := env2ctr(d, "images", "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("images left: %q", out)
	}
	if out, _ := env2ctr(d, "snapshots", "ls"); strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Errorf("snapshots left:\n%s", out)
	}
	if nsOut, _ := exec.Command("ctr", "-a", env.containerd.address, "namespaces", "ls", "-q").Output(); strings.Contains(string(nsOut), d.Namespace+"\n") {
		t.Errorf("containerd namespace %s left", d.Namespace)
	}
	if err := exec.Command("ip", "link", "show", d.Bridge).Run(); err == nil {
		t.Errorf("bridge %s left", d.Bridge)
	}
	if rules := iptablesRulesOf(d.Network); len(rules) > 0 {
		t.Errorf("iptables rules left:\n%s", strings.Join(rules, "\n"))
	}
	if m := mountsUnder(d.Dir); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	if cg, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace); len(cg) > 0 {
		t.Errorf("cgroups left: %v", cg)
	}
	if _, err := os.Stat(d.RunDir); err == nil {
		t.Errorf("%s left", d.RunDir)
	}
	for _, gone := range []string{"pods", "cni", "node.json", "workloads"} {
		if _, err := os.Stat(filepath.Join(d.RootDir, gone)); err == nil {
			t.Errorf("%s left in the root dir", gone)
		}
	}
	if confs, _ := filepath.Glob(filepath.Join(d.CNIConf, "*.conflist")); len(confs) > 0 {
		t.Errorf("CNI config left: %v", confs)
	}
	if b, err := os.ReadFile(claimFile); err != nil || strings.TrimSpace(string(b)) != "kept" {
		t.Errorf("the claim's data: %q %v, want it kept", b, err)
	}
}
