package eviction

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/minilet/minilet/pkg/node"
)

// HostSignals measures the signals on this host: memory and PIDs from
// /proc, nodefs from the filesystem of minilet's root directory, imagefs
// from the filesystem of containerd's snapshots.
type HostSignals struct {
	NodeFs string
	// ImageFs says where the container runtime keeps its snapshots.
	ImageFs func(ctx context.Context) (string, error)
}

// Observe measures every signal. dedicatedImageFs: the images are on
// another filesystem than minilet's root directory.
func (h HostSignals) Observe(ctx context.Context) (obs Observations, dedicatedImageFs bool, err error) {
	hs, err := node.ReadHostStats(h.NodeFs)
	if err != nil {
		return nil, false, err
	}
	obs = Observations{}
	if hs.MemoryTotal > 0 {
		obs[SignalMemoryAvailable] = Observation{Available: hs.MemoryTotal - hs.MemoryWorkingSet, Capacity: hs.MemoryTotal}
	}
	if hs.FsCapacity > 0 {
		obs[SignalNodeFsAvailable] = Observation{Available: hs.FsAvailable, Capacity: hs.FsCapacity}
	}
	if hs.FsInodes > 0 {
		obs[SignalNodeFsInodesFree] = Observation{Available: hs.FsInodesFree, Capacity: hs.FsInodes}
	}
	if hs.MaxPIDs > 0 {
		obs[SignalPIDAvailable] = Observation{Available: hs.MaxPIDs - hs.Tasks, Capacity: hs.MaxPIDs}
	}
	if h.ImageFs == nil {
		return obs, false, nil
	}
	dir, err := h.ImageFs(ctx)
	if err != nil {
		return obs, false, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return obs, false, fmt.Errorf("image filesystem %s: %w", dir, err)
	}
	obs[SignalImageFsAvailable] = Observation{Available: int64(st.Bavail) * st.Bsize, Capacity: int64(st.Blocks) * st.Bsize}
	if st.Files > 0 {
		obs[SignalImageFsInodesFree] = Observation{Available: int64(st.Ffree), Capacity: int64(st.Files)}
	}
	var a, b unix.Stat_t
	if unix.Stat(dir, &a) == nil && unix.Stat(h.NodeFs, &b) == nil {
		dedicatedImageFs = a.Dev != b.Dev
	}
	return obs, dedicatedImageFs, nil
}
