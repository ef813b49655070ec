// Package podhost makes and removes the host-side resources of a pod: its
// state directory with the pod's hosts, hostname and resolv.conf files, the
// tmpfs shared as /dev/shm, emptyDir volumes (tmpfs for medium: Memory),
// hostPath type checks, log directories, and the pod's cgroup. Every step
// is idempotent, so a daemon killed half-way simply runs it again.
package podhost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/containerlog"
	"github.com/minilet/minilet/pkg/podsandbox"
)

// shmSize is the size of a pod's /dev/shm, as containerd's CRI makes it.
const shmSize = 64 << 20

// Host makes pod resources on this host.
type Host struct {
	// HostResolv is the resolv.conf read for dnsPolicy Default and
	// ClusterFirst; when /etc/resolv.conf names only loopback servers
	// (systemd-resolved's stub), the upstream file is used instead.
	HostResolv string
	HostHosts  string // the host's /etc/hosts, for hostNetwork pods
	// LogLinkDir is the kubelet's /var/log/containers: a link per
	// container to its log file. "" makes no links.
	LogLinkDir string
}

// Prepare makes the pod's directories, /dev/shm and volumes (emptyDir,
// ephemeral, and the directories of its PersistentVolumeClaims on first
// use), and checks its hostPath volumes. It does not write the hosts file,
// which needs the IP, nor the files of configMap, secret, downwardAPI and
// projected volumes, which need objects (WriteVolume).
func (h Host) Prepare(pod *v1.Pod, p podsandbox.Paths) error {
	for _, d := range []string{p.StateDir, p.LogDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("make pod directory: %w", err)
		}
	}
	if !pod.Spec.HostIPC {
		if err := mountTmpfs(p.ShmDir, shmSize, "1777"); err != nil {
			return fmt.Errorf("make /dev/shm: %w", err)
		}
	}
	for _, c := range append(append([]v1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if err := os.MkdirAll(filepath.Join(p.LogDir, c.Name), 0o750); err != nil {
			return fmt.Errorf("make log directory: %w", err)
		}
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		switch {
		case v.EmptyDir != nil:
			if err := emptyDir(p.VolumeDir(v.Name), v.EmptyDir); err != nil {
				return fmt.Errorf("volume %q: %w", v.Name, err)
			}
			if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
				if err := applyFSGroup(p.VolumeDir(v.Name), *sc.FSGroup, sc.FSGroupChangePolicy); err != nil {
					return fmt.Errorf("volume %q: fsGroup: %w", v.Name, err)
				}
			}
		case v.Ephemeral != nil:
			// A claim of the pod's own: a directory that goes with it.
			if err := emptyDir(p.VolumeDir(v.Name), &v1.EmptyDirVolumeSource{}); err != nil {
				return fmt.Errorf("volume %q: %w", v.Name, err)
			}
			if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
				if err := applyFSGroup(p.VolumeDir(v.Name), *sc.FSGroup, sc.FSGroupChangePolicy); err != nil {
					return fmt.Errorf("volume %q: fsGroup: %w", v.Name, err)
				}
			}
		case v.PersistentVolumeClaim != nil:
			if err := prepareClaim(p.ClaimDir(pod.Namespace, v.PersistentVolumeClaim.ClaimName), pod.Spec.SecurityContext); err != nil {
				return fmt.Errorf("volume %q: claim %s: %w", v.Name, v.PersistentVolumeClaim.ClaimName, err)
			}
		case v.HostPath != nil:
			if err := checkHostPath(v.HostPath); err != nil {
				return fmt.Errorf("volume %q: %w", v.Name, err)
			}
		}
	}
	return nil
}

// WriteFiles writes the pod's /etc/hosts, /etc/hostname and
// /etc/resolv.conf, each atomically.
func (h Host) WriteFiles(pod *v1.Pod, p podsandbox.Paths, podIPs []string) error {
	hostHosts, _ := os.ReadFile(orDefault(h.HostHosts, "/etc/hosts"))
	resolv, err := h.resolv()
	if err != nil {
		return err
	}
	files := []struct {
		path string
		data []byte
	}{
		{p.HostsFile(), podsandbox.HostsFile(pod, podIPs, hostHosts)},
		{p.HostnameFile(), []byte(hostnameOf(pod) + "\n")},
		{p.ResolvFile(), podsandbox.ResolvConf(pod, resolv)},
	}
	for _, f := range files {
		// Not synced to disk: these files are made again whenever a
		// sandbox is, so a crash can only cost a rewrite.
		if err := writeFileRenamed(f.path, f.data, 0o644, false); err != nil {
			return err
		}
	}
	return nil
}

func hostnameOf(pod *v1.Pod) string {
	if pod.Spec.HostNetwork {
		h, _ := os.Hostname()
		return h
	}
	return podsandbox.UTSHostname(pod)
}

func (h Host) resolv() ([]byte, error) {
	path := orDefault(h.HostResolv, "/etc/resolv.conf")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if h.HostResolv == "" && onlyLoopbackServers(data) {
		if up, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
			return up, nil
		}
	}
	return data, nil
}

func onlyLoopbackServers(data []byte) bool {
	found := false
	for _, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) >= 2 && string(f[0]) == "nameserver" {
			found = true
			if !bytes.HasPrefix(f[1], []byte("127.")) && string(f[1]) != "::1" {
				return false
			}
		}
	}
	return found
}

// Teardown unmounts and removes everything Prepare and WriteFiles made,
// except the log directory (kept, as the kubelet keeps it until the pod is
// gone; RemoveLogs removes it).
func (h Host) Teardown(p podsandbox.Paths) error {
	var errs []error
	volumes := filepath.Join(p.StateDir, "volumes")
	if ents, err := os.ReadDir(volumes); err == nil {
		for _, e := range ents {
			errs = append(errs, unmountAll(filepath.Join(volumes, e.Name())))
		}
	}
	errs = append(errs, unmountAll(p.ShmDir))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Everything but the pod's record first, then the record and the
	// dirs: a daemon killed half-way still finds the record.
	ents, _ := os.ReadDir(p.StateDir)
	for _, e := range ents {
		if path := filepath.Join(p.StateDir, e.Name()); path != p.PodFile() {
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove %s: %w", path, err)
			}
		}
	}
	for _, d := range []string{filepath.Dir(p.ShmDir), p.StateDir} {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveVolumes tears down the volumes of a pod whose containers have all
// stopped for good (an evicted pod): emptyDir data, tmpfs mounts and the
// object volumes' files go, as the kubelet tears down a terminated pod's
// volumes; claims, outside the pod's dir, stay.
func (h Host) RemoveVolumes(p podsandbox.Paths) error {
	volumes := filepath.Join(p.StateDir, "volumes")
	ents, err := os.ReadDir(volumes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove volumes: %w", err)
	}
	var errs []error
	for _, e := range ents {
		dir := filepath.Join(volumes, e.Name())
		if err := unmountAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// RemoveOldContainerLogs removes the logs (and their rotated files) of a
// container's attempts before keepFrom: all of them, not only the last
// few, so logs that an earlier daemon left behind go too.
func (h Host) RemoveOldContainerLogs(p podsandbox.Paths, container string, keepFrom int) error {
	dir := filepath.Dir(p.ContainerLog(container, 0))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove old logs: %w", err)
	}
	var errs []error
	removed := map[string]bool{}
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok {
			continue
		}
		if attempt, err := strconv.Atoi(n); err == nil && attempt >= 0 && attempt < keepFrom {
			path := filepath.Join(dir, e.Name())
			errs = append(errs, containerlog.Remove(path))
			if abs, err := filepath.Abs(path); err == nil {
				removed[abs] = true // links point to absolute paths
			}
		}
	}
	if len(removed) > 0 {
		errs = append(errs, h.removeLogLinks(p.LogDir, func(target string) bool { return removed[target] }))
	}
	return errors.Join(errs...)
}

// RemoveLogs removes the pod's log directory and the links to its logs.
func (h Host) RemoveLogs(p podsandbox.Paths) error {
	linkErr := h.removeLogLinks(p.LogDir, func(string) bool { return true })
	return errors.Join(os.RemoveAll(p.LogDir), linkErr)
}

func emptyDir(dir string, src *v1.EmptyDirVolumeSource) error {
	if src.Medium == v1.StorageMediumMemory {
		size := int64(0)
		if src.SizeLimit != nil {
			size = src.SizeLimit.Value()
		}
		return mountTmpfs(dir, size, "1777")
	}
	// The kubelet makes emptyDirs 0777 so any container user can write.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777)
}

// mountTmpfs mounts a tmpfs at dir unless one is already there.
func mountTmpfs(dir string, size int64, mode string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if mounted, err := isMountPoint(dir); err != nil || mounted {
		return err
	}
	opts := "mode=" + mode
	if size > 0 {
		opts += ",size=" + strconv.FormatInt(size, 10)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// unmountAll unmounts every mount stacked on dir.
func unmountAll(dir string) error {
	for i := 0; i < 8; i++ {
		err := unix.Unmount(dir, unix.MNT_DETACH)
		if err == unix.EINVAL || err == unix.ENOENT {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	return nil
}

// isMountPoint reports whether dir is a mount point, comparing its device
// with its parent's (enough for the tmpfs mounts made here).
func isMountPoint(dir string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return false, err
	}
	if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
		return false, err
	}
	return st.Dev != parent.Dev, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so a crash never leaves a half-written file.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeFileRenamed(path, data, mode, true)
}

// WriteFileRenamed is WriteFileAtomic without the sync: the file is whole
// or absent after the process dies (what a killed daemon needs), but may
// be lost to a power failure, which takes the pods with it anyway. It
// keeps fsync off the pod start path.
func WriteFileRenamed(path string, data []byte, mode os.FileMode) error {
	return writeFileRenamed(path, data, mode, false)
}

func writeFileRenamed(path string, data []byte, mode os.FileMode, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
