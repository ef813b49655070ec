package podsandbox

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// DefaultSeccompProfileRoot is the kubelet's directory of Localhost
// seccomp profiles (<root-dir>/seccomp of a kubelet).
const DefaultSeccompProfileRoot = "/var/lib/kubelet/seccomp"

// AppArmorAnnotationPrefix is the deprecated annotation of a container's
// AppArmor profile.
const AppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

// Security resolves a container's effective security context (container
// fields over pod fields) into runtime settings. Seccomp is RuntimeDefault
// unless Unconfined or Localhost (a file under seccompRoot, ""
// meaning DefaultSeccompProfileRoot) is asked for: safer than the
// kubelet, whose default is Unconfined unless seccompDefault is on.
// AppArmor and SELinux are what the pod asks for (admission has refused a
// pod that asks on a host without them).
func Security(pod *v1.Pod, c *v1.Container, imageUser, seccompRoot string) (runtime.Security, error) {
	var s runtime.Security
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &v1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		csc = &v1.SecurityContext{}
	}
	s.RunAsUser = firstInt64(csc.RunAsUser, psc.RunAsUser)
	s.RunAsGroup = firstInt64(csc.RunAsGroup, psc.RunAsGroup)
	s.ImageUser = imageUser
	s.MergeImageGroups = psc.SupplementalGroupsPolicy == nil || *psc.SupplementalGroupsPolicy != v1.SupplementalGroupsPolicyStrict
	s.SupplementalGIDs = append(s.SupplementalGIDs, psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		s.SupplementalGIDs = append(s.SupplementalGIDs, *psc.FSGroup)
	}
	s.Privileged = csc.Privileged != nil && *csc.Privileged
	if caps := csc.Capabilities; caps != nil {
		for _, c := range caps.Add {
			s.CapAdd = append(s.CapAdd, capName(string(c)))
		}
		for _, c := range caps.Drop {
			s.CapDrop = append(s.CapDrop, capName(string(c)))
		}
	}
	s.ReadOnlyRootfs = csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem
	s.NoNewPrivileges = !s.Privileged && csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation
	s.SeccompProfile = "RuntimeDefault"
	if sp := firstSeccomp(csc.SeccompProfile, psc.SeccompProfile); sp != nil {
		switch sp.Type {
		case v1.SeccompProfileTypeUnconfined:
			s.SeccompProfile = "Unconfined"
		case v1.SeccompProfileTypeLocalhost:
			if seccompRoot == "" {
				seccompRoot = DefaultSeccompProfileRoot
			}
			s.SeccompProfile = "Localhost"
			if sp.LocalhostProfile != nil {
				s.SeccompLocalhost = filepath.Join(seccompRoot, filepath.Clean("/"+*sp.LocalhostProfile))
			}
		}
	}
	s.AppArmorProfile = appArmorProfile(pod, c, csc, psc)
	s.SELinuxLabel = selinuxLabel(csc.SELinuxOptions, psc.SELinuxOptions)
	s.MaskedPathsOff = csc.ProcMount != nil && *csc.ProcMount == v1.UnmaskedProcMount

	nonRoot := csc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	if nonRoot != nil && *nonRoot {
		if err := verifyNonRoot(s.RunAsUser, imageUser); err != nil {
			return s, err
		}
	}
	return s, nil
}

// verifyNonRoot applies the kubelet's runAsNonRoot check.
func verifyNonRoot(uid *int64, imageUser string) error {
	if uid != nil {
		if *uid == 0 {
			return fmt.Errorf("%w: container's runAsUser is 0 (root) but runAsNonRoot is true", ErrRunAsNonRoot)
		}
		return nil
	}
	user := strings.SplitN(imageUser, ":", 2)[0]
	if user == "" || user == "root" {
		return fmt.Errorf("%w: the image runs as root and runAsNonRoot is true; set runAsUser", ErrRunAsNonRoot)
	}
	n, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: the image's user %q is not numeric, so it cannot be verified as non-root; set runAsUser", ErrRunAsNonRoot, user)
	}
	if n == 0 {
		return fmt.Errorf("%w: the image runs as uid 0 and runAsNonRoot is true; set runAsUser", ErrRunAsNonRoot)
	}
	return nil
}

func capName(c string) string {
	c = strings.ToUpper(c)
	if c == "ALL" || strings.HasPrefix(c, "CAP_") {
		return c
	}
	return "CAP_" + c
}

func firstInt64(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

// appArmorProfile is the container's AppArmor profile as the runtime
// takes it: its own field, else the deprecated annotation, else the pod's
// field; "" when none or unconfined.
func appArmorProfile(pod *v1.Pod, c *v1.Container, csc *v1.SecurityContext, psc *v1.PodSecurityContext) string {
	p := csc.AppArmorProfile
	if p == nil {
		if a, ok := pod.Annotations[AppArmorAnnotationPrefix+c.Name]; ok {
			if a == "unconfined" {
				return ""
			}
			return a
		}
		p = psc.AppArmorProfile
	}
	switch {
	case p == nil || p.Type == v1.AppArmorProfileTypeUnconfined:
		return ""
	case p.Type == v1.AppArmorProfileTypeLocalhost && p.LocalhostProfile != nil:
		return "localhost/" + *p.LocalhostProfile
	}
	return "runtime/default"
}

// selinuxLabel is the process label user:role:type:level from the
// container's options over the pod's, each part defaulting to the
// container-selinux policy's (system_u:system_r:container_t:s0); "" when
// neither sets any.
func selinuxLabel(c, p *v1.SELinuxOptions) string {
	if c == nil && p == nil {
		return ""
	}
	parts := []string{"system_u", "system_r", "container_t", "s0"}
	set := false
	for _, o := range []*v1.SELinuxOptions{p, c} {
		if o == nil {
			continue
		}
		for i, v := range []string{o.User, o.Role, o.Type, o.Level} {
			if v != "" {
				parts[i], set = v, true
			}
		}
	}
	if !set {
		return ""
	}
	return strings.Join(parts, ":")
}

func firstSeccomp(a, b *v1.SeccompProfile) *v1.SeccompProfile {
	if a != nil {
		return a
	}
	return b
}
