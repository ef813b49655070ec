package node

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// ReasonSysctlForbidden is the kubelet's reason for a pod whose sysctls it
// does not allow.
const ReasonSysctlForbidden = "SysctlForbidden"

// SafeSysctls are the sysctls the kubelet allows every pod (its "safe"
// set, pkg/kubelet/sysctl/safe_sysctls.go): namespaced, and unable to
// harm other pods.
var SafeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

// SysctlAllowlist is the safe set plus the operator's
// --allowed-unsafe-sysctls (names, or prefixes ending in *).
type SysctlAllowlist struct {
	names    map[string]bool
	prefixes []string
}

// NewSysctlAllowlist checks the unsafe patterns: each must be of a
// namespace a pod owns (net.*, or an IPC sysctl), as the kubelet requires.
func NewSysctlAllowlist(unsafe []string) (*SysctlAllowlist, error) {
	a := &SysctlAllowlist{names: map[string]bool{}}
	for _, s := range SafeSysctls {
		a.names[s] = true
	}
	for _, u := range unsafe {
		u = manifest.NormalizeSysctl(strings.TrimSpace(u))
		prefix, isPrefix := strings.CutSuffix(u, "*")
		if !namespaced(prefix, isPrefix) {
			return nil, fmt.Errorf("the sysctl %q is not known to be namespaced; only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be allowed", u)
		}
		if isPrefix {
			a.prefixes = append(a.prefixes, prefix)
		} else {
			a.names[u] = true
		}
	}
	return a, nil
}

// namespaced reports whether a sysctl (or every sysctl of a prefix) lives
// in a namespace the pod owns.
func namespaced(name string, prefix bool) bool {
	if strings.HasPrefix(name, "net.") || strings.HasPrefix(name, "fs.mqueue.") {
		return true
	}
	if prefix {
		return strings.HasPrefix(name, "kernel.shm") || strings.HasPrefix(name, "kernel.msg") || name == "kernel.sem"
	}
	return manifest.IsIPCSysctl(name)
}

// Admit refuses a pod with a sysctl that is not allowed, as the kubelet's
// sysctl admission does (phase Failed, reason SysctlForbidden).
func (a *SysctlAllowlist) Admit(pod *v1.Pod) (ok bool, reason, message string) {
	sc := pod.Spec.SecurityContext
	if sc == nil {
		return true, "", ""
	}
	for _, s := range sc.Sysctls {
		n := manifest.NormalizeSysctl(s.Name)
		allowed := a.names[n]
		for _, p := range a.prefixes {
			allowed = allowed || strings.HasPrefix(n, p)
		}
		if !allowed {
			return false, ReasonSysctlForbidden, fmt.Sprintf("forbidden sysctl: %q not allowlisted", n)
		}
	}
	return true, "", ""
}
