package node

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

func TestSysctlAdmission(t *testing.T) {
	if _, err := NewSysctlAllowlist([]string{"vm.swappiness"}); err == nil {
		t.Error("a sysctl of no pod namespace was allowed")
	}
	a, err := NewSysctlAllowlist([]string{"kernel.msg*", "net.core.somaxconn"})
	if err != nil {
		t.Fatal(err)
	}
	pod := func(names ...string) *v1.Pod {
		p := &v1.Pod{Spec: v1.PodSpec{SecurityContext: &v1.PodSecurityContext{}}}
		for _, n := range names {
			p.Spec.SecurityContext.Sysctls = append(p.Spec.SecurityContext.Sysctls, v1.Sysctl{Name: n, Value: "1"})
		}
		return p
	}
	for _, ok := range [][]string{{"net.ipv4.ip_unprivileged_port_start"}, {"kernel.msgmax", "net.core.somaxconn"}, {"net/ipv4/tcp_syncookies"}} {
		if admitted, _, msg := a.Admit(pod(ok...)); !admitted {
			t.Errorf("%v refused: %s", ok, msg)
		}
	}
	admitted, reason, msg := a.Admit(pod("net.ipv4.ip_unprivileged_port_start", "kernel.shmmax"))
	if admitted || reason != ReasonSysctlForbidden || msg != `forbidden sysctl: "kernel.shmmax" not allowlisted` {
		t.Errorf("unsafe sysctl: %v %s %s", admitted, reason, msg)
	}
}

func TestSecurityAdmission(t *testing.T) {
	none := HostSecurity{}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}, Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app"}}}}
	if ok, _, _ := none.AdmitSecurity(pod); !ok {
		t.Fatal("a plain pod refused")
	}
	pod.Annotations["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined"
	if ok, _, _ := none.AdmitSecurity(pod); !ok {
		t.Fatal("unconfined AppArmor refused")
	}
	pod.Annotations["container.apparmor.security.beta.kubernetes.io/app"] = "runtime/default"
	if ok, reason, msg := none.AdmitSecurity(pod); ok || reason != ReasonAppArmor || !strings.Contains(msg, "not enabled on the host") {
		t.Fatalf("AppArmor on a host without it: %v %s %s", ok, reason, msg)
	}
	if ok, _, _ := (HostSecurity{AppArmor: true}).AdmitSecurity(pod); !ok {
		t.Fatal("AppArmor refused on a host with it")
	}
	delete(pod.Annotations, "container.apparmor.security.beta.kubernetes.io/app")
	pod.Spec.Containers[0].SecurityContext = &v1.SecurityContext{SELinuxOptions: &v1.SELinuxOptions{Level: "s0:c1,c2"}}
	if ok, reason, _ := none.AdmitSecurity(pod); ok || reason != ReasonSELinux {
		t.Fatalf("SELinux on a host without it: %v %s", ok, reason)
	}
	if ok, _, _ := (HostSecurity{SELinux: true}).AdmitSecurity(pod); !ok {
		t.Fatal("SELinux refused on a host with it")
	}
}

// A pod of the API server with SELinux options runs on a host without
// SELinux, with a warning, as on the kubelet; one of the files is refused.
func TestAdmitSecuritySELinuxAPIPod(t *testing.T) {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{manifest.ConfigSourceAnnotation: manifest.ConfigSourceAPI}},
		Spec: v1.PodSpec{SecurityContext: &v1.PodSecurityContext{SELinuxOptions: &v1.SELinuxOptions{Level: "s0"}},
			Containers: []v1.Container{{Name: "c"}}},
	}
	h := HostSecurity{}
	if ok, _, _ := h.AdmitSecurity(pod); !ok || h.SELinuxIgnored(pod) == "" {
		t.Errorf("API pod: admitted %v, warning %q", ok, h.SELinuxIgnored(pod))
	}
	pod.Annotations[manifest.ConfigSourceAnnotation] = "file"
	if ok, reason, _ := h.AdmitSecurity(pod); ok || reason != ReasonSELinux {
		t.Errorf("file pod: admitted %v (%s)", ok, reason)
	}
	if (HostSecurity{SELinux: true}).SELinuxIgnored(pod) != "" {
		t.Error("a warning where SELinux is on")
	}
}
