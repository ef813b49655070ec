package printers

import (
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
)

// resourceValue is a resourceFieldRef's value as describe shows it.
func resourceValue(c *v1.Container, ref *v1.ResourceFieldSelector) string {
	if v, ok := podsandbox.ResourceValue(c, ref); ok {
		return v
	}
	return "node allocatable"
}

func statusIPs(ips []v1.PodIP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.IP)
	}
	return out
}

func hostIPsOf(st v1.PodStatus) []string {
	ips := st.HostIPs
	if len(ips) == 0 && st.HostIP != "" {
		return []string{st.HostIP}
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.IP)
	}
	return out
}
