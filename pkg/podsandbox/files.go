package podsandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// Hostname is the pod's hostname: spec.hostname, else the pod name
// (truncated to 63 characters, as the kubelet does).
func Hostname(pod *v1.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// UTSHostname is the pod's kernel hostname: its FQDN with
// setHostnameAsFQDN and a subdomain (as the kubelet sets it), else
// Hostname.
func UTSHostname(pod *v1.Pod) string {
	if f := pod.Spec.SetHostnameAsFQDN; f != nil && *f {
		if fqdn := manifest.PodFQDN(pod); fqdn != "" {
			return fqdn
		}
	}
	return Hostname(pod)
}

// HostsFile renders the pod's /etc/hosts like the kubelet's
// "Kubernetes-managed hosts file". With hostNetwork the host's file is used
// as is, plus hostAliases.
func HostsFile(pod *v1.Pod, podIPs []string, hostHosts []byte) []byte {
	var b bytes.Buffer
	if pod.Spec.HostNetwork {
		b.Write(hostHosts)
		if len(hostHosts) > 0 && !bytes.HasSuffix(hostHosts, []byte("\n")) {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("# Kubernetes-managed hosts file (minilet).\n")
		b.WriteString("127.0.0.1\tlocalhost\n")
		b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
		b.WriteString("fe00::0\tip6-localnet\n")
		b.WriteString("fe00::0\tip6-mcastprefix\n")
		b.WriteString("fe00::1\tip6-allnodes\n")
		b.WriteString("fe00::2\tip6-allrouters\n")
		host := Hostname(pod)
		for _, ip := range podIPs {
			if fqdn := manifest.PodFQDN(pod); fqdn != "" {
				fmt.Fprintf(&b, "%s\t%s\t%s\n", ip, fqdn, host)
			} else {
				fmt.Fprintf(&b, "%s\t%s\n", ip, host)
			}
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.Bytes()
}

// maxNameservers and maxSearches are the kubelet's limits.
const (
	maxNameservers = 3
	maxSearches    = 32
)

// ResolvConf renders the pod's /etc/resolv.conf from its dnsPolicy and
// dnsConfig. minilet has no cluster DNS, so ClusterFirst and
// ClusterFirstWithHostNet behave like Default (as the kubelet does when no
// cluster DNS is configured): the host's file, merged with dnsConfig. None
// uses dnsConfig alone.
func ResolvConf(pod *v1.Pod, hostResolv []byte) []byte {
	var servers, searches, options []string
	if pod.Spec.DNSPolicy != v1.DNSNone {
		servers, searches, options = parseResolv(hostResolv)
	}
	if c := pod.Spec.DNSConfig; c != nil {
		servers = appendUnique(servers, c.Nameservers...)
		searches = appendUnique(searches, c.Searches...)
		for _, o := range c.Options {
			kv := o.Name
			if o.Value != nil {
				kv += ":" + *o.Value
			}
			options = setOption(options, o.Name, kv)
		}
	}
	if len(servers) > maxNameservers {
		servers = servers[:maxNameservers]
	}
	if len(searches) > maxSearches {
		searches = searches[:maxSearches]
	}
	var b bytes.Buffer
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(searches, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.Bytes()
}

func parseResolv(data []byte) (servers, searches, options []string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			servers = appendUnique(servers, f[1])
		case "search", "domain":
			searches = appendUnique(searches, f[1:]...)
		case "options":
			for _, o := range f[1:] {
				options = setOption(options, strings.SplitN(o, ":", 2)[0], o)
			}
		}
	}
	return servers, searches, options
}

func appendUnique(list []string, add ...string) []string {
	for _, a := range add {
		found := false
		for _, x := range list {
			if x == a {
				found = true
				break
			}
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

// setOption replaces the option called name, or appends kv.
func setOption(opts []string, name, kv string) []string {
	for i, o := range opts {
		if strings.SplitN(o, ":", 2)[0] == name {
			opts[i] = kv
			return opts
		}
	}
	return append(opts, kv)
}
