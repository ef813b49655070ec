package pod

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// hostAccess lists what a pod asks for that reaches beyond its sandbox:
// host namespaces, privileged containers, hostPath volumes. minilet honours
// them (a manifest is root on this host anyway) and logs them at warning
// level, so they never go unnoticed.
func hostAccess(pod *v1.Pod) []string {
	var out []string
	if pod.Spec.HostNetwork {
		out = append(out, "hostNetwork")
	}
	if pod.Spec.HostPID {
		out = append(out, "hostPID")
	}
	if pod.Spec.HostIPC {
		out = append(out, "hostIPC")
	}
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			out = append(out, "hostPath "+v.HostPath.Path)
		}
	}
	all := append(append([]v1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		sc := c.SecurityContext
		if sc == nil {
			continue
		}
		if sc.Privileged != nil && *sc.Privileged {
			out = append(out, "privileged container "+c.Name)
		}
		if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
			var caps []string
			for _, c := range sc.Capabilities.Add {
				caps = append(caps, string(c))
			}
			out = append(out, "container "+c.Name+" adds capabilities "+strings.Join(caps, ","))
		}
	}
	return out
}
