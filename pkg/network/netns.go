package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// maxStackedMounts bounds the unmount loop in RemoveNetns.
const maxStackedMounts = 16

// CreateNetns creates a network namespace for podID and bind-mounts it on
// NetnsDir/<podID>, so that it outlives every process in it. If that file
// already holds a namespace, CreateNetns returns its path unchanged.
func (m *Manager) CreateNetns(podID string) (string, error) {
	if err := validPodID(podID); err != nil {
		return "", err
	}
	path := m.netnsPath(podID)
	m.nsMu.Lock()
	defer m.nsMu.Unlock()

	if ok, err := isNetns(path); err != nil {
		return "", fmt.Errorf("netns of pod %s: %w", podID, err)
	} else if ok {
		return path, nil
	}
	// The file may be left over from a crash between create and mount;
	// a plain empty file is fine to mount over.
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		return "", fmt.Errorf("create netns file of pod %s: %w", podID, err)
	}
	f.Close()
	if err := mountNewNetns(path); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("create netns of pod %s: %w", podID, err)
	}
	m.log.Debug("created netns", zap.String("podID", podID), zap.String("path", path))
	return path, nil
}

// RemoveNetns unmounts and removes the netns file of podID. The namespace
// itself goes away once no process is left in it. A missing file is not an
// error.
func (m *Manager) RemoveNetns(podID string) error {
	if err := validPodID(podID); err != nil {
		return err
	}
	path := m.netnsPath(podID)
	m.nsMu.Lock()
	defer m.nsMu.Unlock()

	if err := unmountAll(path); err != nil {
		return fmt.Errorf("remove netns of pod %s: %w", podID, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove netns of pod %s: %w", podID, err)
	}
	return nil
}

// ListNetns returns the pod IDs that have a file in NetnsDir, mounted or
// not, for cleaning up after a crash.
func (m *Manager) ListNetns() ([]string, error) {
	ents, err := os.ReadDir(m.cfg.NetnsDir)
	if err != nil {
		return nil, fmt.Errorf("list netns dir: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() || validPodID(e.Name()) != nil {
			continue
		}
		ids = append(ids, e.Name())
	}
	return ids, nil
}

// NetnsPath returns where the netns of podID is (or would be) mounted.
func (m *Manager) NetnsPath(podID string) string { return m.netnsPath(podID) }

func (m *Manager) netnsPath(podID string) string { return filepath.Join(m.cfg.NetnsDir, podID) }

// mountNewNetns creates a network namespace and bind-mounts it on target.
func mountNewNetns(target string) error {
	return switchNetns(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare network namespace: %w", err)
		}
		return nil
	}, func(self string) error {
		// self now names the new namespace.
		if err := unix.Mount(self, target, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount %s on %s: %w", self, target, err)
		}
		return nil
	})
}

// switchNetns runs enter, which moves the calling thread into another
// network namespace, then f (self names the thread's namespace), then
// moves the thread back.
//
// A namespace change moves only the calling thread, so the work runs on a
// goroutine locked to its thread. Only if moving back fails does the
// goroutine end still locked: the Go runtime then retires the thread
// instead of running other goroutines in the pod's namespace.
func switchNetns(enter func() error, f func(self string) error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := enter(); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = f(self)
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// unmountAll unmounts every mount stacked on path. A path that is missing
// or not a mount point is fine.
func unmountAll(path string) error {
	for i := 0; i < maxStackedMounts; i++ {
		err := unix.Unmount(path, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted after %d unmounts", path, maxStackedMounts)
}

// isNetns reports whether path is a mounted network namespace (nsfs).
func isNetns(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Type == unix.NSFS_MAGIC, nil
}

// ensureSharedDir creates dir and makes it a mount point with shared
// propagation, as `ip netns add` does for /run/netns: netns mounts and
// unmounts here then propagate to mount namespaces copied from ours (a
// service's, a container runtime's), so those see pods created after the
// copy and see them go.
func ensureSharedDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("make shared: %w", err)
	}
	// Not a mount point yet: bind it on itself to make it one.
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mount on itself: %w", err)
	}
	if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make shared: %w", err)
	}
	return nil
}
