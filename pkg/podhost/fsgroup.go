package podhost

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	v1 "k8s.io/api/core/v1"
)

// Permission bits fsGroup adds, as the kubelet's SetVolumeOwnership.
const (
	groupRW   = fs.FileMode(0o660)
	groupExec = fs.FileMode(0o110)
)

// applyFSGroup gives a volume to the pod's fsGroup as the kubelet does for
// volumes that support ownership management (emptyDir here): every file
// and directory gets group gid and group read-write (directories also
// group search and setgid, so files made later inherit the group); links
// are re-grouped but not re-moded. With fsGroupChangePolicy
// OnRootMismatch, a volume whose root already has the group and the bits
// is left as it is.
func applyFSGroup(root string, gid int64, policy *v1.PodFSGroupChangePolicy) error {
	if policy != nil && *policy == v1.FSGroupChangeOnRootMismatch && rootHasGroup(root, gid) {
		return nil
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, int(gid)); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mask := groupRW
		if d.IsDir() {
			mask |= groupExec | fs.ModeSetgid
		}
		return os.Chmod(path, info.Mode()|mask)
	})
}

// rootHasGroup tells whether the volume's root already belongs to gid with
// the bits applyFSGroup sets.
func rootHasGroup(root string, gid int64) bool {
	info, err := os.Stat(root)
	if err != nil {
		return false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	want := groupRW | groupExec | fs.ModeSetgid
	return ok && int64(st.Gid) == gid && info.Mode()&want == want
}
