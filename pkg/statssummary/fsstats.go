package statssummary

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// fsStats are the stats of a filesystem (nil: not measured) and of what
// one user of it uses (nil: not told); nil when neither is known.
func fsStats(at time.Time, fs *FsInfo, used, inodesUsed *uint64) *statsapi.FsStats {
	if fs == nil && used == nil && inodesUsed == nil {
		return nil
	}
	out := &statsapi.FsStats{Time: metav1.NewTime(at), UsedBytes: used, InodesUsed: inodesUsed}
	if fs != nil {
		f := *fs
		out.CapacityBytes, out.AvailableBytes = &f.CapacityBytes, &f.AvailableBytes
		out.Inodes, out.InodesFree = &f.Inodes, &f.InodesFree
	}
	return out
}

// wholeFsStats are a filesystem's stats with all its use counted: the
// node's filesystem, as the kubelet reports it.
func wholeFsStats(at time.Time, fs FsInfo) *statsapi.FsStats {
	used := fs.UsedBytes
	var inodesUsed uint64
	if fs.InodesFree <= fs.Inodes {
		inodesUsed = fs.Inodes - fs.InodesFree
	}
	return fsStats(at, &fs, &used, &inodesUsed)
}
