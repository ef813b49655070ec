package podsandbox

import (
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/runtime"
)

// SandboxParams are the inputs of a pod's pause container spec.
type SandboxParams struct {
	Pod          *v1.Pod
	PodID        string
	Image        runtime.Image // the pause image
	Token        string        // the sandbox instance (LabelSandbox)
	NetnsPath    string        // ignored with hostNetwork
	CgroupParent string
	Extra        map[string]string // more labels (manifest file, hash)
}

// SandboxSpec is the spec of a pod's pause container: it owns the pod's
// net (through the CNI-made netns file), ipc and uts namespaces, and a pid
// namespace that the app containers join with shareProcessNamespace.
func SandboxSpec(p SandboxParams) runtime.ContainerSpec {
	pod := p.Pod
	id := SandboxID(p.PodID, p.Token)
	ns := runtime.Namespaces{
		Network: runtime.NamespaceMode{Path: p.NetnsPath},
		IPC:     runtime.NamespaceMode{Host: pod.Spec.HostIPC},
		UTS:     runtime.NamespaceMode{Host: pod.Spec.HostNetwork},
		PID:     runtime.NamespaceMode{Host: pod.Spec.HostPID},
	}
	if pod.Spec.HostNetwork {
		ns.Network = runtime.NamespaceMode{Host: true}
	}
	spec := runtime.ContainerSpec{
		ID:           id,
		Image:        p.Image.Ref,
		Args:         append(append([]string{}, p.Image.Config.Entrypoint...), p.Image.Config.Cmd...),
		Env:          p.Image.Config.Env,
		Namespaces:   ns,
		Resources:    runtime.Resources{CPUShares: minShares},
		CgroupParent: p.CgroupParent,
		// No seccomp filter: the pause runs minilet's own static program
		// that only waits for signals, with every capability dropped,
		// no_new_privs and a read-only rootfs, so a filter guards nothing,
		// and runc compiles one for ~10 ms of CPU per pod (the largest
		// cost of a burst after the app containers' own filters).
		Security:    runtime.Security{ReadOnlyRootfs: true, NoNewPrivileges: true, CapDrop: []string{"ALL"}, SeccompProfile: "Unconfined"},
		Labels:      labels(pod, p.PodID, SandboxName, TypeSandbox, 0, p.Extra),
		Annotations: map[string]string{AnnotationShimGroup: ShimGroup(p.PodID)},
	}
	spec.Labels[LabelSandbox] = p.Token
	// Sysctls go to the pause container, whose net and ipc namespaces the
	// pod's containers share (admission checked them).
	if sc := pod.Spec.SecurityContext; sc != nil && len(sc.Sysctls) > 0 {
		spec.Sysctls = map[string]string{}
		for _, s := range sc.Sysctls {
			spec.Sysctls[manifest.NormalizeSysctl(s.Name)] = s.Value
		}
	}
	if !pod.Spec.HostNetwork {
		spec.Hostname = UTSHostname(pod)
	}
	return spec
}

func labels(pod *v1.Pod, podID, container, typ string, restarts int, extra map[string]string) map[string]string {
	l := map[string]string{
		LabelPodName:       pod.Name,
		LabelPodNamespace:  pod.Namespace,
		LabelPodUID:        string(pod.UID),
		LabelContainerName: container,
		LabelRestartCount:  itoa(restarts),
		LabelManaged:       "true",
		LabelPodID:         podID,
		LabelContainerType: typ,
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}
