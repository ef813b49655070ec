package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// procStatus returns the fields of /proc/<pid>/status.
func procStatus(t *testing.T, pid uint32) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// mountOptions returns the options of the mount at path inside pid's mount
// namespace, and its filesystem type.
func mountOptions(t *testing.T, pid uint32, path string) (opts, fstype string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != path {
			continue
		}
		for i, x := range f {
			if x == "-" && i+2 < len(f) {
				return f[5] + "," + f[i+3], f[i+1]
			}
		}
	}
	t.Fatalf("no mount at %s in pid %d", path, pid)
	return "", ""
}

// TestSecurityContext checks the kernel's view of a container's security:
// the defaults (seccomp filter on, containerd's default capabilities,
// privilege escalation allowed as in Kubernetes), and a locked-down
// container (runAsUser, drop ALL + one added capability, no new privileges,
// read-only root filesystem); plus a Memory emptyDir that is a sized tmpfs.
func TestSecurityContext(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("sec.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]
  containers:
  - name: plain
    image: %[1]s
    command: ["sleep", "3600"]
  - name: locked
    image: %[1]s
    command: ["sleep", "3600"]
    volumeMounts: [{name: mem, mountPath: /mem}]
    securityContext:
      runAsUser: 1000
      runAsGroup: 3000
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
`, BusyboxImage))
	p := d.waitPod("sec", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)

	plain := procStatus(t, pids["plain"])
	if plain["Seccomp"] != "2" {
		t.Errorf("default container: Seccomp %q, want 2 (filter: RuntimeDefault)", plain["Seccomp"])
	}
	// containerd's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
	// SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
	if plain["CapEff"] != "00000000a80425fb" {
		t.Errorf("default container: CapEff %s, want containerd's default 00000000a80425fb", plain["CapEff"])
	}
	if plain["NoNewPrivs"] != "0" {
		t.Errorf("default container: NoNewPrivs %s, want 0 as in Kubernetes", plain["NoNewPrivs"])
	}

	locked := procStatus(t, pids["locked"])
	if !strings.HasPrefix(locked["Uid"], "1000\t") || !strings.HasPrefix(locked["Gid"], "3000\t") {
		t.Errorf("runAsUser/runAsGroup: Uid %q Gid %q", locked["Uid"], locked["Gid"])
	}
	if locked["CapBnd"] != "0000000000000400" {
		t.Errorf("drop ALL + add NET_BIND_SERVICE: CapBnd %s, want 0000000000000400", locked["CapBnd"])
	}
	if locked["NoNewPrivs"] != "1" {
		t.Errorf("allowPrivilegeEscalation false: NoNewPrivs %s, want 1", locked["NoNewPrivs"])
	}
	if opts, _ := mountOptions(t, pids["locked"], "/"); !strings.HasPrefix(opts, "ro") {
		t.Errorf("readOnlyRootFilesystem: / mounted %s", opts)
	}
	opts, fstype := mountOptions(t, pids["locked"], "/mem")
	if fstype != "tmpfs" || !strings.Contains(opts, "size=8192k") {
		t.Errorf("Memory emptyDir: %s %s, want tmpfs size=8192k", fstype, opts)
	}
}
