package podhost

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/claims"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/podvolume"
)

// WriteVolume makes the pod's configMap, secret, downwardAPI or projected
// volume name hold files, atomically (see writeAtomic). A secret or
// projected volume is a tmpfs, so its files never reach a disk; the mount
// is checked before every write, and made when it is missing. It reports
// whether the files changed.
func (h Host) WriteVolume(pod *v1.Pod, p podsandbox.Paths, name string, files podvolume.Payload) (bool, error) {
	var vol *v1.Volume
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == name {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil || !podvolume.HasFiles(vol) {
		return false, fmt.Errorf("volume %q: not a volume whose files minilet writes", name)
	}
	dir := p.VolumeDir(name)
	if podvolume.InMemory(vol) {
		if err := mountTmpfs(dir, 0, "0755"); err != nil {
			return false, fmt.Errorf("volume %q: %w", name, err)
		}
		if mounted, err := isMountPoint(dir); err != nil || !mounted {
			return false, fmt.Errorf("volume %q: refusing to write secrets to %s, which is not a tmpfs mount (%v)", name, dir, err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("volume %q: %w", name, err)
	}
	var gid *int64
	if sc := pod.Spec.SecurityContext; sc != nil {
		gid = sc.FSGroup
	}
	changed, err := writeAtomic(dir, files, gid)
	if err != nil {
		return changed, fmt.Errorf("volume %q: %w", name, err)
	}
	return changed, nil
}

// prepareClaim makes a PersistentVolumeClaim's directory on first use:
// writable by any container user, as an emptyDir, and given to the pod's
// fsGroup. It is never removed with a pod.
func prepareClaim(dir string, sc *v1.PodSecurityContext) error {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if sc != nil && sc.FSGroup != nil {
		return applyFSGroup(dir, *sc.FSGroup, sc.FSGroupChangePolicy)
	}
	return nil
}

func fileGID(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Gid)
	}
	return -1
}

// LimitClaim makes a claim's request a hard limit on its directory where
// the filesystem has project quotas; it reports whether it is enforced.
func (h Host) LimitClaim(dir string, bytes int64) (bool, error) {
	return claims.Limit(dir, bytes)
}
