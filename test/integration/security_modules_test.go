package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// failedWith is a waitPod condition: phase Failed with this reason.
func failedWith(reason, msg string) func(*v1.Pod) error {
	return func(p *v1.Pod) error {
		if p.Status.Phase != v1.PodFailed || p.Status.Reason != reason || !strings.Contains(p.Status.Message, msg) {
			return fmt.Errorf("phase %s reason %q message %q", p.Status.Phase, p.Status.Reason, p.Status.Message)
		}
		return nil
	}
}

// TestSysctlsSeccompAndLSMs: a safe sysctl is seen in /proc/sys inside the
// pod, an unsafe one is refused unless allowed; a Localhost seccomp profile
// is applied (a syscall it denies fails inside, Seccomp: 2) and a missing
// one is an error, not RuntimeDefault; AppArmor and SELinux options on a
// host without them are refused with the kubelet's reasons.
func TestSysctlsSeccompAndLSMs(t *testing.T) {
	d := startDaemon(t)
	profiles := filepath.Join(d.RootDir, "..", "seccomp")
	if err := os.MkdirAll(filepath.Join(profiles, "team"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Everything allowed but mkdir and mkdirat, which fail with EPERM.
	profile := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`
	if err := os.WriteFile(filepath.Join(profiles, "team", "no-mkdir.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGTERM)
	d.start("--seccomp-profile-root", profiles, "--allowed-unsafe-sysctls", "kernel.msg*")

	pod := func(name, spec, container string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
%s  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/msgmax > /tmp/sysctls; mkdir /tmp/made && echo made > /tmp/result || echo refused > /tmp/result; exec sleep 3600"]
%s`, name, spec, BusyboxImage, container)
	}
	d.writeManifest("sysctl.yaml", pod("sysctl", `  securityContext:
    sysctls:
    - {name: net.ipv4.ip_unprivileged_port_start, value: "123"}
    - {name: kernel.msgmax, value: "12345"}
`, ""))
	d.writeManifest("unsafe.yaml", pod("unsafe", "  securityContext: {sysctls: [{name: kernel.shmmax, value: \"1000\"}]}\n", ""))
	d.writeManifest("seccomp.yaml", pod("seccomp", "", "    securityContext: {seccompProfile: {type: Localhost, localhostProfile: team/no-mkdir.json}}\n"))
	d.writeManifest("noprofile.yaml", pod("noprofile", "", "    securityContext: {seccompProfile: {type: Localhost, localhostProfile: team/missing.json}}\n"))
	d.writeManifest("apparmor.yaml", pod("apparmor", "  securityContext: {appArmorProfile: {type: RuntimeDefault}}\n", ""))
	d.writeManifest("selinux.yaml", pod("selinux", "", "    securityContext: {seLinuxOptions: {level: \"s0:c1,c2\"}}\n"))

	p := d.waitPod("sysctl", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	// /proc/sys/net shows the reader's namespace: the container reads it.
	d.eventually(10*time.Second, "the container read its sysctls", func() error {
		got, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/sysctls", pids["app"]))
		if strings.Join(strings.Fields(string(got)), " ") != "123 12345" {
			return fmt.Errorf("ip_unprivileged_port_start and msgmax inside: %q (%v), want 123 12345", got, err)
		}
		return nil
	})
	host, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if strings.TrimSpace(string(host)) == "123" {
		t.Error("the sysctl reached the host")
	}
	d.waitPod("unsafe", 30*time.Second, "is refused", failedWith("SysctlForbidden", `forbidden sysctl: "kernel.shmmax" not allowlisted`))
	d.waitEvent("unsafe", "SysctlForbidden", "kernel.shmmax", 10*time.Second)

	p = d.waitPod("seccomp", 60*time.Second, "runs", allRunning)
	_, pids = d.pids(p)
	d.eventually(10*time.Second, "mkdir was refused inside", func() error {
		got, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/result", pids["app"]))
		if strings.TrimSpace(string(got)) != "refused" {
			return fmt.Errorf("result %q (%v)", got, err)
		}
		return nil
	})
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids["app"]))
	if !strings.Contains(string(status), "\nSeccomp:\t2") {
		t.Errorf("no seccomp filter on the process:\n%s", status)
	}
	// The same command without the profile makes its directory.
	_, spids := d.pids(d.waitPod("sysctl", 10*time.Second, "runs", allRunning))
	if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/result", spids["app"])); strings.TrimSpace(string(got)) != "made" {
		t.Errorf("without the profile: %q", got)
	}
	d.waitPod("noprofile", 30*time.Second, "cannot be created", func(p *v1.Pod) error {
		cs := containerStatus(p, "app")
		if cs == nil || cs.State.Waiting == nil || cs.State.Waiting.Reason != "CreateContainerError" || !strings.Contains(cs.State.Waiting.Message, "missing.json") {
			return fmt.Errorf("%+v", cs)
		}
		return nil
	})
	if aa, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); strings.TrimSpace(string(aa)) != "Y" {
		d.waitPod("apparmor", 30*time.Second, "is refused", failedWith("AppArmor", "AppArmor is not enabled on the host"))
	} else {
		t.Log("this host has AppArmor: the refusal is not tested here")
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		d.waitPod("selinux", 30*time.Second, "is refused", failedWith("SELinux", "SELinux is not enabled on the host"))
	} else {
		t.Log("this host has SELinux: the refusal is not tested here")
	}
}
