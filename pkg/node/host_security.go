package node

import (
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// HostSecurity says which Linux security modules this host has.
type HostSecurity struct {
	AppArmor bool
	SELinux  bool
}

// The kubelet's reasons and messages for pods a host cannot confine.
const (
	ReasonAppArmor  = "AppArmor"
	MessageAppArmor = "Cannot enforce AppArmor: AppArmor is not enabled on the host"
	ReasonSELinux   = "SELinux"
	MessageSELinux  = "Cannot apply SELinux options: SELinux is not enabled on the host"
)

// AdmitSecurity refuses a pod that asks for an AppArmor profile (other
// than unconfined) or SELinux options on a host without AppArmor or
// SELinux: the kubelet refuses the first the same way; where the runtime
// would silently ignore the second, minilet refuses it too for a pod of
// its own files. A pod of the API server (cluster mode) was written for
// any node of the cluster, as the upstream conformance tests' pods are:
// it runs, as on the kubelet, and SELinuxIgnored says why its options are
// not applied.
func (h HostSecurity) AdmitSecurity(pod *v1.Pod) (ok bool, reason, message string) {
	if !h.AppArmor && NeedsAppArmor(pod) {
		return false, ReasonAppArmor, MessageAppArmor
	}
	if !h.SELinux && hasSELinuxOptions(pod) && !manifest.IsAPIPod(pod) {
		return false, ReasonSELinux, MessageSELinux
	}
	return true, "", ""
}

// SELinuxIgnored is the warning for a pod of the API server whose SELinux
// options this host cannot apply ("" when there is none).
func (h HostSecurity) SELinuxIgnored(pod *v1.Pod) string {
	if h.SELinux || !hasSELinuxOptions(pod) {
		return ""
	}
	return "SELinux is not enabled on the host: the pod's seLinuxOptions are not applied (as the kubelet ignores them there)"
}

// NeedsAppArmor reports whether any container of pod asks for an AppArmor
// profile other than unconfined (fields or the deprecated annotations).
func NeedsAppArmor(pod *v1.Pod) bool {
	confines := func(p *v1.AppArmorProfile) bool { return p != nil && p.Type != v1.AppArmorProfileTypeUnconfined }
	if sc := pod.Spec.SecurityContext; sc != nil && confines(sc.AppArmorProfile) {
		return true
	}
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.SecurityContext != nil && confines(c.SecurityContext.AppArmorProfile) {
				return true
			}
		}
	}
	for k, v := range pod.Annotations {
		if strings.HasPrefix(k, manifest.AppArmorAnnotationPrefix) && v != "unconfined" {
			return true
		}
	}
	return false
}

func hasSELinuxOptions(pod *v1.Pod) bool {
	set := func(o *v1.SELinuxOptions) bool {
		return o != nil && (o.User != "" || o.Role != "" || o.Type != "" || o.Level != "")
	}
	if sc := pod.Spec.SecurityContext; sc != nil && set(sc.SELinuxOptions) {
		return true
	}
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.SecurityContext != nil && set(c.SecurityContext.SELinuxOptions) {
				return true
			}
		}
	}
	return false
}
