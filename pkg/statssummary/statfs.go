package statssummary

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FsInfo is a filesystem's size and use.
type FsInfo struct {
	// CapacityBytes is its size, AvailableBytes what unprivileged users
	// may still use, UsedBytes what is in use (blocks less free blocks).
	CapacityBytes, AvailableBytes, UsedBytes uint64
	// Inodes is how many inodes it has, InodesFree how many are free.
	Inodes, InodesFree uint64
}

// Statfs measures the filesystem holding path with statfs(2): the
// default of Config.Statfs.
func Statfs(path string) (FsInfo, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return FsInfo{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return FsInfo{
		CapacityBytes:  st.Blocks * bs,
		AvailableBytes: st.Bavail * bs,
		UsedBytes:      (st.Blocks - st.Bfree) * bs,
		Inodes:         st.Files,
		InodesFree:     st.Ffree,
	}, nil
}
