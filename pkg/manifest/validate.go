package manifest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits the kubelet applies on one host.
const (
	maxDNSNameservers   = 3 // the resolver reads no more
	maxDNSSearches      = 32
	maxDNSSearchChars   = 2048
	maxAnnotationsBytes = 256 << 10
)

// validatePod checks what the kubelet validates that matters on one host,
// and refuses what cannot be honoured without an API server. It runs on a
// defaulted pod.
func validatePod(pod *v1.Pod) field.ErrorList {
	errs := validateMeta(&pod.ObjectMeta, field.NewPath("metadata"), "pod")
	errs = append(errs, validateAppArmorAnnotations(pod, field.NewPath("metadata"))...)
	if f := pod.Spec.SetHostnameAsFQDN; f != nil && *f && len(PodFQDN(pod)) > 64 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "setHostnameAsFQDN"), true,
			fmt.Sprintf("the pod's FQDN %q is longer than 64 characters, the most a hostname can be", PodFQDN(pod))))
	}
	return append(errs, validateSpec(&pod.Spec, field.NewPath("spec"))...)
}

// validateMeta checks an object's metadata; what names the kind in
// messages ("pod", "configmap").
func validateMeta(m *metav1.ObjectMeta, p *field.Path, what string) field.ErrorList {
	var errs field.ErrorList
	switch {
	case m.Name == "" && m.GenerateName != "":
		errs = append(errs, field.Required(p.Child("name"), "generateName is not supported: a manifest must name its "+what))
	case m.Name == "":
		errs = append(errs, field.Required(p.Child("name"), "every "+what+" needs a name"))
	default:
		errs = append(errs, dnsErrors(p.Child("name"), m.Name, validation.IsDNS1123Subdomain)...)
	}
	errs = append(errs, dnsErrors(p.Child("namespace"), m.Namespace, validation.IsDNS1123Label)...)
	for _, k := range sortedMapKeys(m.Labels) {
		v := m.Labels[k]
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p.Child("labels").Key(k), k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(p.Child("labels").Key(k), v, msg))
		}
	}
	size := 0
	for _, k := range sortedMapKeys(m.Annotations) {
		v := m.Annotations[k]
		if k != ConfigHashAnnotation { // ours, set after validation
			size += len(k) + len(v)
		}
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(p.Child("annotations").Key(k), k, msg))
		}
	}
	if size > maxAnnotationsBytes {
		errs = append(errs, field.TooLong(p.Child("annotations"), "", maxAnnotationsBytes))
	}
	if m.DeletionTimestamp != nil || m.DeletionGracePeriodSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("deletionTimestamp"), "a manifest cannot ask for its own deletion; delete the file (or the document) instead"))
	}
	return errs
}

func validateSpec(s *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes, verrs := validateVolumes(s.Volumes, p.Child("volumes"))
	errs = append(errs, verrs...)

	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), "a pod needs at least one container"))
	}
	names := map[string]bool{}
	checkName := func(c *v1.Container, cp *field.Path) {
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(cp.Child("name"), "every container needs a name"))
		case names[c.Name]:
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		default:
			errs = append(errs, dnsErrors(cp.Child("name"), c.Name, validation.IsDNS1123Label)...)
		}
		names[c.Name] = true
	}
	for i := range s.InitContainers {
		cp := p.Child("initContainers").Index(i)
		checkName(&s.InitContainers[i], cp)
		errs = append(errs, validateContainer(&s.InitContainers[i], cp, volumes, true)...)
	}
	for i := range s.Containers {
		cp := p.Child("containers").Index(i)
		checkName(&s.Containers[i], cp)
		errs = append(errs, validateContainer(&s.Containers[i], cp, volumes, false)...)
	}
	errs = append(errs, validateHostPorts(s, p)...)

	switch s.RestartPolicy {
	case v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), s.RestartPolicy,
			[]v1.RestartPolicy{v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever}))
	}
	errs = append(errs, validateDNS(s, p)...)
	if s.Hostname != "" {
		errs = append(errs, dnsErrors(p.Child("hostname"), s.Hostname, validation.IsDNS1123Label)...)
	}
	if s.Subdomain != "" {
		errs = append(errs, dnsErrors(p.Child("subdomain"), s.Subdomain, validation.IsDNS1123Label)...)
	}
	if s.HostnameOverride != nil {
		errs = append(errs, field.Forbidden(p.Child("hostnameOverride"), "an alpha field (feature gate HostnameOverride) minilet does not support; use hostname"))
	}

	if g := s.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be 0 or more"))
	}
	if d := s.ActiveDeadlineSeconds; d != nil && *d < 1 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *d, "must be at least 1"))
	}
	for i, a := range s.HostAliases {
		ap := p.Child("hostAliases").Index(i)
		if _, err := netip.ParseAddr(a.IP); err != nil {
			errs = append(errs, field.Invalid(ap.Child("ip"), a.IP, "must be an IP address"))
		}
		for j, h := range a.Hostnames {
			errs = append(errs, dnsErrors(ap.Child("hostnames").Index(j), h, validation.IsDNS1123Subdomain)...)
		}
	}
	if sc := s.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateIDs(sp, sc.RunAsUser, sc.RunAsGroup)...)
		if sc.FSGroup != nil {
			errs = append(errs, validateID(sp.Child("fsGroup"), *sc.FSGroup)...)
		}
		if pol := sc.FSGroupChangePolicy; pol != nil && *pol != v1.FSGroupChangeAlways && *pol != v1.FSGroupChangeOnRootMismatch {
			errs = append(errs, field.NotSupported(sp.Child("fsGroupChangePolicy"), *pol,
				[]v1.PodFSGroupChangePolicy{v1.FSGroupChangeOnRootMismatch, v1.FSGroupChangeAlways}))
		}
		for i, g := range sc.SupplementalGroups {
			errs = append(errs, validateID(sp.Child("supplementalGroups").Index(i), g)...)
		}
		if pol := sc.SupplementalGroupsPolicy; pol != nil && *pol != v1.SupplementalGroupsPolicyMerge && *pol != v1.SupplementalGroupsPolicyStrict {
			errs = append(errs, field.NotSupported(sp.Child("supplementalGroupsPolicy"), *pol,
				[]v1.SupplementalGroupsPolicy{v1.SupplementalGroupsPolicyMerge, v1.SupplementalGroupsPolicyStrict}))
		}
		if pol := sc.SELinuxChangePolicy; pol != nil && *pol != v1.SELinuxChangePolicyRecursive && *pol != v1.SELinuxChangePolicyMountOption {
			errs = append(errs, field.NotSupported(sp.Child("seLinuxChangePolicy"), *pol,
				[]v1.PodSELinuxChangePolicy{v1.SELinuxChangePolicyRecursive, v1.SELinuxChangePolicyMountOption}))
		}
		errs = append(errs, validateSeccomp(sc.SeccompProfile, sp.Child("seccompProfile"))...)
		errs = append(errs, validateAppArmor(sc.AppArmorProfile, sp.Child("appArmorProfile"))...)
		errs = append(errs, validateSysctls(s, sp.Child("sysctls"))...)
		if sc.WindowsOptions != nil {
			errs = append(errs, field.Forbidden(sp.Child("windowsOptions"), "windowsOptions apply to Windows nodes; minilet runs Linux pods"))
		}
	}
	if s.Resources != nil {
		errs = append(errs, validateResources(s.Resources, p.Child("resources"))...)
	}
	return append(errs, refuseSpec(s, p)...)
}

// refuseSpec refuses pod fields that need an API server, or that minilet
// cannot honour on one host.
func refuseSpec(s *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.ImagePullSecrets) > 0 {
		errs = append(errs, field.Forbidden(p.Child("imagePullSecrets"),
			"there are no Secrets without an API server; registry credentials come from the daemon's --image-credentials docker config.json"))
	}
	if n := s.ServiceAccountName; n != "" && n != "default" {
		errs = append(errs, field.Forbidden(p.Child("serviceAccountName"), fmt.Sprintf("service account %q needs an API server; only \"default\" (no token) is supported", n)))
	}
	if n := s.DeprecatedServiceAccount; n != "" && n != "default" {
		errs = append(errs, field.Forbidden(p.Child("serviceAccount"), fmt.Sprintf("service account %q needs an API server; only \"default\" (no token) is supported", n)))
	}
	if a := s.AutomountServiceAccountToken; a != nil && *a {
		errs = append(errs, field.Forbidden(p.Child("automountServiceAccountToken"), "there is no API server to issue a token; leave it unset or false"))
	}
	if len(s.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(p.Child("ephemeralContainers"), "ephemeral containers are added to a running pod with `minilet debug`, not in its manifest"))
	}
	if h := s.HostUsers; h != nil && !*h {
		errs = append(errs, field.Forbidden(p.Child("hostUsers"), "user namespaces are not supported by minilet yet; remove hostUsers or set it to true"))
	}
	if s.OS != nil && s.OS.Name != v1.Linux {
		errs = append(errs, field.NotSupported(p.Child("os", "name"), s.OS.Name, []v1.OSName{v1.Linux}))
	}
	if len(s.ResourceClaims) > 0 {
		errs = append(errs, field.Forbidden(p.Child("resourceClaims"), "dynamic resource allocation needs an API server; not supported by minilet"))
	}
	if len(s.ReadinessGates) > 0 {
		errs = append(errs, field.Forbidden(p.Child("readinessGates"), "readiness gates are set by controllers through an API server; nothing can set them on minilet, so the pod would never be Ready"))
	}
	if len(s.SchedulingGates) > 0 {
		errs = append(errs, field.Forbidden(p.Child("schedulingGates"), "a pod with scheduling gates is not started until they are removed; remove them from the manifest"))
	}
	if len(s.Overhead) > 0 {
		errs = append(errs, field.Forbidden(p.Child("overhead"), "overhead comes from a RuntimeClass, which minilet does not support"))
	}
	if s.Resources != nil {
		errs = append(errs, field.Forbidden(p.Child("resources"), "pod-level resources are not supported by minilet yet; set resources on each container"))
	}
	if s.RuntimeClassName != nil {
		errs = append(errs, field.Forbidden(p.Child("runtimeClassName"), "RuntimeClass objects live in the API server; not supported by minilet, the pod would silently run with the default runtime"))
	}
	return errs
}

func validateDNS(s *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.DNSPolicy {
	case v1.DNSClusterFirst, v1.DNSClusterFirstWithHostNet, v1.DNSDefault:
	case v1.DNSNone:
		if s.DNSConfig == nil || len(s.DNSConfig.Nameservers) == 0 {
			errs = append(errs, field.Required(p.Child("dnsConfig", "nameservers"), "dnsPolicy None needs at least one nameserver in dnsConfig"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("dnsPolicy"), s.DNSPolicy,
			[]v1.DNSPolicy{v1.DNSClusterFirst, v1.DNSClusterFirstWithHostNet, v1.DNSDefault, v1.DNSNone}))
	}
	c := s.DNSConfig
	if c == nil {
		return errs
	}
	cp := p.Child("dnsConfig")
	if len(c.Nameservers) > maxDNSNameservers {
		errs = append(errs, field.TooMany(cp.Child("nameservers"), len(c.Nameservers), maxDNSNameservers))
	}
	for i, ns := range c.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			errs = append(errs, field.Invalid(cp.Child("nameservers").Index(i), ns, "must be an IP address"))
		}
	}
	if len(c.Searches) > maxDNSSearches {
		errs = append(errs, field.TooMany(cp.Child("searches"), len(c.Searches), maxDNSSearches))
	}
	total := 0
	for i, d := range c.Searches {
		total += len(d) + 1
		if d == "." {
			continue
		}
		errs = append(errs, dnsErrors(cp.Child("searches").Index(i), strings.TrimSuffix(d, "."), validation.IsDNS1123SubdomainWithUnderscore)...)
	}
	if total > maxDNSSearchChars {
		errs = append(errs, field.Invalid(cp.Child("searches"), c.Searches, fmt.Sprintf("must not have more than %d characters in total", maxDNSSearchChars)))
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(cp.Child("options").Index(i).Child("name"), ""))
		}
	}
	return errs
}

// validateHostPorts refuses two containers of the pod binding the same
// host port, protocol and address.
func validateHostPorts(s *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	check := func(cs []v1.Container, cp *field.Path) {
		for i := range cs {
			for j, port := range cs[i].Ports {
				if port.HostPort == 0 {
					continue
				}
				key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
				if seen[key] {
					errs = append(errs, field.Duplicate(cp.Index(i).Child("ports").Index(j).Child("hostPort"), key))
				}
				seen[key] = true
			}
		}
	}
	check(s.InitContainers, p.Child("initContainers"))
	check(s.Containers, p.Child("containers"))
	return errs
}

func validateIDs(p *field.Path, user, group *int64) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		errs = append(errs, validateID(p.Child("runAsUser"), *user)...)
	}
	if group != nil {
		errs = append(errs, validateID(p.Child("runAsGroup"), *group)...)
	}
	return errs
}

func validateID(p *field.Path, id int64) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidUserID(id) {
		errs = append(errs, field.Invalid(p, id, msg))
	}
	return errs
}

// dnsErrors runs one of the validation.IsDNS* checks.
func dnsErrors(p *field.Path, v string, check func(string) []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range check(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// sortedMapKeys returns the keys of m in order, so that errors come out the
// same on every scan.
func sortedMapKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ClusterDomain is the domain of pod names, as minilet's /etc/hosts
// writes them (the kubelet's default clusterDomain).
const ClusterDomain = "cluster.local"

// PodFQDN is the pod's fully qualified name, host.subdomain.ns.svc.cluster.local,
// or "" without a subdomain (the kubelet's GetPodFQDN).
func PodFQDN(pod *v1.Pod) string {
	if pod.Spec.Subdomain == "" {
		return ""
	}
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	return fmt.Sprintf("%s.%s.%s.svc.%s", h, pod.Spec.Subdomain, pod.Namespace, ClusterDomain)
}
