package containerd

import (
	"context"
	"fmt"
	"github.com/opencontainers/selinux/go-selinux"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/apparmor"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/pkg/cap"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minilet/minilet/pkg/runtime"
)

// appArmorDefaultProfile is the name of containerd's default AppArmor
// profile, as its CRI plugin loads it.
const appArmorDefaultProfile = "cri-containerd.apparmor.d"

// CreateContainer creates a container and its snapshot, not its task.
func (r *Runtime) CreateContainer(ctx context.Context, spec runtime.ContainerSpec) error {
	ctx = r.ctx(ctx)
	named, err := normalizeRef(spec.Image)
	if err != nil {
		return fmt.Errorf("container %s: image %q: %w", spec.ID, spec.Image, err)
	}
	img, ok := r.cachedImage(named)
	if !ok {
		if img, err = r.client.GetImage(ctx, named); err != nil {
			return fmt.Errorf("container %s: image %q: %w", spec.ID, spec.Image, wrap(err))
		}
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	if spec.LogPath != "" {
		labels[labelLogPath] = spec.LogPath
	}
	if spec.TTY {
		labels[labelTTY] = "true"
	}
	stdin := stdinLabel(spec)
	if stdin != "" {
		labels[labelStdin] = stdin
	}
	var made containerd.Container
	create := func() (err error) {
		made, err = r.client.NewContainer(ctx, spec.ID,
			containerd.WithImage(img),
			containerd.WithSnapshotter(r.opts.Snapshotter),
			containerd.WithNewSnapshot(spec.ID, img),
			containerd.WithRuntime(r.opts.RuntimeName, nil),
			containerd.WithContainerLabels(labels),
			containerd.WithNewSpec(append(specOpts(spec), r.cdiOpts(spec.CDIDevices)...)...),
		)
		return err
	}
	err = create()
	if errdefs.IsAlreadyExists(err) {
		// Either the container exists, or only its snapshot does: an
		// earlier create died between preparing the snapshot and writing
		// the container. That snapshot is ours and unused: replace it.
		if _, lerr := r.client.LoadContainer(ctx, spec.ID); errdefs.IsNotFound(lerr) {
			if rerr := r.RemoveSnapshot(ctx, spec.ID); rerr != nil {
				return fmt.Errorf("create container %s: %w", spec.ID, rerr)
			}
			err = create()
		}
	}
	if err != nil {
		// A failed create may leave the snapshot behind.
		if !errdefs.IsAlreadyExists(err) {
			_ = r.client.SnapshotService(r.opts.Snapshotter).Remove(ctx, spec.ID)
			// The image or its unpacked layers may be gone: look again
			// next time.
			r.forgetImage(named)
		}
		return fmt.Errorf("create container %s: %w", spec.ID, wrap(err))
	}
	r.mu.Lock()
	r.made[spec.ID] = madeHere{logPath: spec.LogPath, tty: spec.TTY, stdin: stdin, unstarted: made}
	r.mu.Unlock()
	return nil
}

// stdinLabel is the container's stdin as its label keeps it.
func stdinLabel(spec runtime.ContainerSpec) string {
	switch {
	case !spec.Stdin:
		return ""
	case spec.StdinOnce:
		return "once"
	}
	return "true"
}

// specOpts translates a ContainerSpec into OCI spec options, applied on top
// of containerd's default Linux spec.
func specOpts(s runtime.ContainerSpec) []oci.SpecOpts {
	opts := []oci.SpecOpts{
		oci.WithProcessArgs(s.Args...),
		oci.WithEnv(s.Env),
	}
	if s.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(s.WorkingDir))
	}
	if s.Hostname != "" {
		opts = append(opts, oci.WithHostname(s.Hostname))
	}
	if s.TTY {
		opts = append(opts, oci.WithTTY)
	}
	opts = append(opts, withNamespace(specs.NetworkNamespace, s.Namespaces.Network),
		withNamespace(specs.IPCNamespace, s.Namespaces.IPC),
		withNamespace(specs.UTSNamespace, s.Namespaces.UTS),
		withNamespace(specs.PIDNamespace, s.Namespaces.PID))
	opts = append(opts, withMounts(s.Mounts))

	if s.CgroupParent != "" {
		opts = append(opts, oci.WithCgroup(strings.TrimSuffix(s.CgroupParent, "/")+"/"+s.ID))
	}
	res := s.Resources
	if res.MemoryLimitBytes > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(res.MemoryLimitBytes)))
	}
	if res.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(res.CPUShares))
	}
	if res.CPUQuota > 0 {
		opts = append(opts, oci.WithCPUCFS(res.CPUQuota, res.CPUPeriod))
	}
	if res.OOMScoreAdj != nil && *res.OOMScoreAdj >= 0 {
		// A negative value needs CAP_SYS_RESOURCE, which a root in a
		// container may lack; runc would then fail the start.
		adj := *res.OOMScoreAdj
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
			sp.Process.OOMScoreAdj = &adj
			return nil
		})
	}
	opts = append(opts, securityOpts(s.Security)...)
	if len(s.Sysctls) > 0 {
		sysctls := s.Sysctls
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
			if sp.Linux.Sysctl == nil {
				sp.Linux.Sysctl = map[string]string{}
			}
			for k, v := range sysctls {
				sp.Linux.Sysctl[k] = v
			}
			return nil
		})
	}

	if len(s.Annotations) > 0 {
		opts = append(opts, oci.WithAnnotations(s.Annotations))
	}
	return opts
}

func withNamespace(t specs.LinuxNamespaceType, m runtime.NamespaceMode) oci.SpecOpts {
	switch {
	case m.Host:
		return oci.WithHostNamespace(t)
	case m.Path != "":
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: t, Path: m.Path})
	}
	return func(context.Context, oci.Client, *containers.Container, *oci.Spec) error { return nil }
}

// withMounts adds mounts, replacing default mounts at the same destination
// (a pod's /dev/shm replaces the container's own).
func withMounts(ms []runtime.Mount) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
		dest := map[string]bool{}
		for _, m := range ms {
			dest[m.Destination] = true
		}
		kept := sp.Mounts[:0]
		for _, m := range sp.Mounts {
			if !dest[m.Destination] {
				kept = append(kept, m)
			}
		}
		sp.Mounts = kept
		for _, m := range ms {
			typ := m.Type
			if typ == "" {
				typ = "bind"
			}
			o := m.Options
			if typ == "bind" && len(o) == 0 {
				o = []string{"rbind", "rprivate", "rw"}
			}
			sp.Mounts = append(sp.Mounts, specs.Mount{Destination: m.Destination, Type: typ, Source: m.Source, Options: o})
		}
		return nil
	}
}

func securityOpts(sec runtime.Security) []oci.SpecOpts {
	var opts []oci.SpecOpts
	// The user: runAsUser, else the image's USER (as the kubelet and
	// containerd's CRI take it), else root; runAsGroup replaces the group
	// either way.
	user := "0"
	switch {
	case sec.RunAsUser != nil && sec.RunAsGroup != nil:
		opts = append(opts, oci.WithUIDGID(uint32(*sec.RunAsUser), uint32(*sec.RunAsGroup)))
		user = fmt.Sprint(*sec.RunAsUser)
	case sec.RunAsUser != nil:
		opts = append(opts, oci.WithUserID(uint32(*sec.RunAsUser)))
		user = fmt.Sprint(*sec.RunAsUser)
	case sec.ImageUser != "":
		opts = append(opts, oci.WithUser(sec.ImageUser))
		user, _, _ = strings.Cut(sec.ImageUser, ":")
	}
	if sec.RunAsUser == nil && sec.RunAsGroup != nil {
		gid := uint32(*sec.RunAsGroup)
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
			sp.Process.User.GID = gid
			return nil
		})
	}
	if sec.MergeImageGroups {
		opts = append(opts, oci.WithAdditionalGIDs(user))
	}
	if len(sec.SupplementalGIDs) > 0 {
		gids := sec.SupplementalGIDs
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, sp *oci.Spec) error {
			for _, g := range gids {
				sp.Process.User.AdditionalGids = append(sp.Process.User.AdditionalGids, uint32(g))
			}
			return nil
		})
	}
	if sec.Privileged {
		opts = append(opts,
			oci.WithCapabilities(cap.Known()),
			oci.WithHostDevices,
			oci.WithAllDevicesAllowed,
			oci.WithMaskedPaths(nil),
			oci.WithReadonlyPaths(nil),
			oci.WithWriteableSysfs,
			oci.WithWriteableCgroupfs)
	} else {
		opts = append(opts, capabilityOpts(sec.CapAdd, sec.CapDrop)...)
		if sec.MaskedPathsOff {
			opts = append(opts, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil))
		}
		switch sec.SeccompProfile {
		case "Unconfined":
		case "Localhost":
			opts = append(opts, seccomp.WithProfile(sec.SeccompLocalhost))
		default:
			opts = append(opts, seccomp.WithDefaultProfile())
		}
	}
	switch p := sec.AppArmorProfile; {
	case p == "runtime/default":
		opts = append(opts, apparmor.WithDefaultProfile(appArmorDefaultProfile))
	case strings.HasPrefix(p, "localhost/"):
		opts = append(opts, apparmor.WithProfile(strings.TrimPrefix(p, "localhost/")))
	}
	// Without SELinux on the host a label cannot be set (runc would fail);
	// admission refused such a pod of the files, and one of the API
	// server has a SELinuxIgnored event.
	if sec.SELinuxLabel != "" && selinux.GetEnabled() {
		opts = append(opts, oci.WithSelinuxLabel(sec.SELinuxLabel))
	}
	if sec.ReadOnlyRootfs {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	// containerd's default spec sets no_new_privs; Kubernetes sets it only
	// for allowPrivilegeEscalation: false.
	if sec.NoNewPrivileges && !sec.Privileged {
		opts = append(opts, oci.WithNoNewPrivileges)
	} else {
		opts = append(opts, oci.WithNewPrivileges)
	}
	return opts
}

// capabilityOpts applies a pod's capabilities.add/drop to containerd's
// default set. "ALL" in drop clears the set before adding; "ALL" in add
// grants every known capability.
func capabilityOpts(add, drop []string) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if contains(drop, "ALL") {
		opts = append(opts, oci.WithCapabilities(nil))
	} else if len(drop) > 0 {
		opts = append(opts, oci.WithDroppedCapabilities(drop))
	}
	if contains(add, "ALL") {
		opts = append(opts, oci.WithCapabilities(cap.Known()))
	} else if len(add) > 0 {
		opts = append(opts, oci.WithAddedCapabilities(add))
	}
	return opts
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) || strings.EqualFold(x, "CAP_"+s) {
			return true
		}
	}
	return false
}
