package podsandbox

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// ContainerParams are the inputs of one app or init container's spec.
type ContainerParams struct {
	Pod          *v1.Pod
	PodID        string
	Container    *v1.Container
	Type         string // TypeApp, TypeInit or TypeEphemeral
	RestartCount int
	Image        runtime.Image
	SandboxPID   uint32 // the pause process, whose namespaces are joined
	PodIPs       []string
	HostIP       string
	Paths        Paths
	CgroupParent string
	Extra        map[string]string
	Objects      Objects // ConfigMaps and Secrets for env; nil: none
	// Allocatable is the node's, for resourceFieldRefs to unset limits.
	Allocatable v1.ResourceList
	// SeccompProfileRoot holds Localhost seccomp profiles (""
	// DefaultSeccompProfileRoot).
	SeccompProfileRoot string
	// CDIDevices are the devices admission gave the container.
	CDIDevices []string
	// TargetPID, for an ephemeral container with a targetContainerName,
	// is that container's process: its PID namespace is joined.
	TargetPID uint32
}

// ErrRunAsNonRoot is returned when runAsNonRoot cannot be honoured.
var ErrRunAsNonRoot = errors.New("runAsNonRoot")

// ContainerSpecFor builds one container's spec. It fails only for what the
// kubelet refuses at container creation (runAsNonRoot with a root image
// user, a subPath that escapes its volume).
func ContainerSpecFor(p ContainerParams) (runtime.ContainerSpec, error) {
	pod, c := p.Pod, p.Container
	id := ContainerID(p.PodID, c.Name, p.RestartCount)

	env, err := BuildEnv(EnvInputs{Pod: pod, Container: c, ImageEnv: p.Image.Config.Env, PodIPs: p.PodIPs,
		HostIP: p.HostIP, Objects: p.Objects, Allocatable: p.Allocatable})
	if err != nil {
		return runtime.ContainerSpec{}, err
	}
	args := Command(c, p.Image.Config, env)
	sec, err := Security(pod, c, p.Image.Config.User, p.SeccompProfileRoot)
	if err != nil {
		return runtime.ContainerSpec{}, fmt.Errorf("container %q: %w", c.Name, err)
	}
	mounts, err := Mounts(pod, c, p.Paths)
	if err != nil {
		return runtime.ContainerSpec{}, fmt.Errorf("container %q: %w", c.Name, err)
	}
	if c.TerminationMessagePath != "" {
		// The caller made the file; the container writes its message
		// there, as under the kubelet.
		mounts = append(mounts, runtime.Mount{Source: p.Paths.TerminationLog(c.Name, p.RestartCount),
			Destination: c.TerminationMessagePath, Options: []string{"rbind", "rprivate", "rw"}})
	}
	proc := fmt.Sprintf("/proc/%d/ns/", p.SandboxPID)
	ns := runtime.Namespaces{
		Network: runtime.NamespaceMode{Path: proc + "net"},
		IPC:     runtime.NamespaceMode{Path: proc + "ipc"},
		UTS:     runtime.NamespaceMode{Path: proc + "uts"},
	}
	switch {
	case pod.Spec.HostNetwork:
		ns.Network = runtime.NamespaceMode{Host: true}
		ns.UTS = runtime.NamespaceMode{Host: true}
	}
	if pod.Spec.HostIPC {
		ns.IPC = runtime.NamespaceMode{Host: true}
	}
	switch {
	case pod.Spec.HostPID:
		ns.PID = runtime.NamespaceMode{Host: true}
	case pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace:
		ns.PID = runtime.NamespaceMode{Path: proc + "pid"}
	case p.TargetPID > 0:
		ns.PID = runtime.NamespaceMode{Path: fmt.Sprintf("/proc/%d/ns/pid", p.TargetPID)}
	}
	wd := c.WorkingDir
	if wd == "" {
		wd = p.Image.Config.WorkingDir
	}
	return runtime.ContainerSpec{
		ID:           id,
		Image:        p.Image.Ref,
		Args:         args,
		Env:          env,
		WorkingDir:   wd,
		Mounts:       mounts,
		Namespaces:   ns,
		Resources:    Resources(c),
		Security:     sec,
		CgroupParent: p.CgroupParent,
		Labels:       labels(pod, p.PodID, c.Name, p.Type, p.RestartCount, p.Extra),
		Annotations:  map[string]string{AnnotationShimGroup: ShimGroup(p.PodID)},
		LogPath:      p.Paths.ContainerLog(c.Name, p.RestartCount),
		TTY:          c.TTY,
		Stdin:        c.Stdin,
		StdinOnce:    c.StdinOnce,
		CDIDevices:   p.CDIDevices,
	}, nil
}

// Command is the process to run, by the kubelet's rules: command replaces
// the image's entrypoint (and drops its cmd); args replace the image's cmd.
// $(VAR) references are expanded from env.
func Command(c *v1.Container, img runtime.ImageConfig, env []string) []string {
	var out []string
	switch {
	case len(c.Command) > 0:
		out = append(append(out, c.Command...), c.Args...)
	case len(c.Args) > 0:
		out = append(append(out, img.Entrypoint...), c.Args...)
	default:
		return append(append(out, img.Entrypoint...), img.Cmd...)
	}
	vars := envMap(env)
	for i := range out {
		out[i] = Expand(out[i], vars)
	}
	return out
}

// Mounts lists a container's mounts: the pod's hosts, hostname and
// resolv.conf files, its shared /dev/shm, and its volumeMounts.
func Mounts(pod *v1.Pod, c *v1.Container, paths Paths) ([]runtime.Mount, error) {
	ms := []runtime.Mount{
		{Source: paths.HostsFile(), Destination: "/etc/hosts"},
		{Source: paths.HostnameFile(), Destination: "/etc/hostname"},
		{Source: paths.ResolvFile(), Destination: "/etc/resolv.conf"},
	}
	if !pod.Spec.HostIPC {
		ms = append(ms, runtime.Mount{Source: paths.ShmDir, Destination: "/dev/shm"})
	}
	vols := map[string]*v1.Volume{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q: no volume of that name", vm.Name)
		}
		var src string
		readOnly := vm.ReadOnly
		switch {
		case v.HostPath != nil:
			src = v.HostPath.Path
		case v.EmptyDir != nil, v.Ephemeral != nil:
			src = paths.VolumeDir(v.Name)
		case v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil, v.Projected != nil:
			// Always read-only, as the kubelet mounts them: minilet
			// writes these files.
			src, readOnly = paths.VolumeDir(v.Name), true
		case v.PersistentVolumeClaim != nil:
			src = paths.ClaimDir(pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			readOnly = readOnly || v.PersistentVolumeClaim.ReadOnly
		default:
			return nil, fmt.Errorf("volume %q: unsupported volume type", v.Name)
		}
		if vm.SubPath != "" {
			if path.IsAbs(vm.SubPath) || hasDotDot(vm.SubPath) {
				return nil, fmt.Errorf("volumeMount %q: subPath %q must be a relative path inside the volume", vm.Name, vm.SubPath)
			}
			src = path.Join(src, vm.SubPath)
		}
		mode := "rw"
		if readOnly {
			mode = "ro"
			// Recursively read-only (mounts below it too) where asked;
			// runc does it with mount_setattr (kernel 5.12 and later).
			if rro := vm.RecursiveReadOnly; rro != nil && (*rro == v1.RecursiveReadOnlyEnabled || *rro == v1.RecursiveReadOnlyIfPossible) {
				mode = "rro"
			}
		}
		prop := "rprivate"
		if vm.MountPropagation != nil {
			switch *vm.MountPropagation {
			case v1.MountPropagationHostToContainer:
				prop = "rslave"
			case v1.MountPropagationBidirectional:
				prop = "rshared"
			}
		}
		ms = append(ms, runtime.Mount{Source: src, Destination: vm.MountPath, Options: []string{"rbind", prop, mode}})
	}
	return ms, nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
