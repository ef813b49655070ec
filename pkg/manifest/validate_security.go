package manifest

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AppArmorAnnotationPrefix is the deprecated per-container annotation of an
// AppArmor profile (container.apparmor.security.beta.kubernetes.io/<name>),
// still honoured as the kubelet honours it.
const AppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

func validateSeccomp(sp *v1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	var errs field.ErrorList
	switch sp.Type {
	case v1.SeccompProfileTypeRuntimeDefault, v1.SeccompProfileTypeUnconfined:
		if sp.LocalhostProfile != nil {
			errs = append(errs, field.Invalid(p.Child("localhostProfile"), *sp.LocalhostProfile, "can only be set if type is Localhost"))
		}
	case v1.SeccompProfileTypeLocalhost:
		errs = append(errs, validateLocalProfile(sp.LocalhostProfile, p.Child("localhostProfile"), "a file under --seccomp-profile-root")...)
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), sp.Type,
			[]v1.SeccompProfileType{v1.SeccompProfileTypeRuntimeDefault, v1.SeccompProfileTypeUnconfined, v1.SeccompProfileTypeLocalhost}))
	}
	return errs
}

func validateAppArmor(ap *v1.AppArmorProfile, p *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	var errs field.ErrorList
	switch ap.Type {
	case v1.AppArmorProfileTypeRuntimeDefault, v1.AppArmorProfileTypeUnconfined:
		if ap.LocalhostProfile != nil {
			errs = append(errs, field.Invalid(p.Child("localhostProfile"), *ap.LocalhostProfile, "can only be set if type is Localhost"))
		}
	case v1.AppArmorProfileTypeLocalhost:
		if ap.LocalhostProfile == nil || strings.TrimSpace(*ap.LocalhostProfile) == "" {
			errs = append(errs, field.Required(p.Child("localhostProfile"), "must name a profile loaded on the host when type is Localhost"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), ap.Type,
			[]v1.AppArmorProfileType{v1.AppArmorProfileTypeRuntimeDefault, v1.AppArmorProfileTypeUnconfined, v1.AppArmorProfileTypeLocalhost}))
	}
	return errs
}

// validateAppArmorAnnotations checks the deprecated AppArmor annotations:
// a known value, for a container of the pod.
func validateAppArmorAnnotations(pod *v1.Pod, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range append(append([]v1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		names[c.Name] = true
	}
	for _, k := range sortedMapKeys(pod.Annotations) {
		name, ok := strings.CutPrefix(k, AppArmorAnnotationPrefix)
		if !ok {
			continue
		}
		v := pod.Annotations[k]
		kp := p.Child("annotations").Key(k)
		if !names[name] {
			errs = append(errs, field.Invalid(kp, name, "container not found"))
		}
		if v != "runtime/default" && v != "unconfined" && !strings.HasPrefix(v, "localhost/") {
			errs = append(errs, field.Invalid(kp, v, "must be runtime/default, unconfined or localhost/<profile>"))
		}
	}
	return errs
}

// validateLocalProfile checks a profile path: relative, without '..'.
func validateLocalProfile(s *string, p *field.Path, what string) field.ErrorList {
	switch {
	case s == nil || *s == "":
		return field.ErrorList{field.Required(p, "must be set when type is Localhost: "+what)}
	case path.IsAbs(*s):
		return field.ErrorList{field.Invalid(p, *s, "must be a relative path ("+what+")")}
	case hasDotDotElement(*s):
		return field.ErrorList{field.Invalid(p, *s, "must not contain '..'")}
	}
	return nil
}

// sysctlName is the API server's pattern of a sysctl name (dots or
// slashes between parts).
var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

const maxSysctlLen = 253

// NormalizeSysctl writes a sysctl name with dots, as the kubelet does:
// when the first separator is a slash, slashes and dots swap
// (net/ipv4/conf/eth0.100/forwarding → net.ipv4.conf.eth0/100.forwarding).
func NormalizeSysctl(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, name)
}

// IsIPCSysctl reports a sysctl of the IPC namespace.
func IsIPCSysctl(name string) bool {
	switch name {
	case "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni":
		return true
	}
	return strings.HasPrefix(name, "fs.mqueue.")
}

// validateSysctls checks the pod's sysctls as the API server does: names,
// no repeats, none of a namespace the pod shares with the host.
func validateSysctls(s *v1.PodSpec, p *field.Path) field.ErrorList {
	if s.SecurityContext == nil {
		return nil
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, sc := range s.SecurityContext.Sysctls {
		np := p.Index(i).Child("name")
		switch {
		case sc.Name == "":
			errs = append(errs, field.Required(np, ""))
			continue
		case len(sc.Name) > maxSysctlLen || !sysctlName.MatchString(sc.Name):
			errs = append(errs, field.Invalid(np, sc.Name, fmt.Sprintf("must have at most %d characters and match regex %s", maxSysctlLen, sysctlName.String())))
			continue
		case seen[NormalizeSysctl(sc.Name)]:
			errs = append(errs, field.Duplicate(np, sc.Name))
		}
		n := NormalizeSysctl(sc.Name)
		seen[n] = true
		if s.HostNetwork && strings.HasPrefix(n, "net.") {
			errs = append(errs, field.Invalid(np, sc.Name, "may not be specified when 'hostNetwork' is true"))
		}
		if s.HostIPC && IsIPCSysctl(n) {
			errs = append(errs, field.Invalid(np, sc.Name, "may not be specified when 'hostIPC' is true"))
		}
	}
	return errs
}
