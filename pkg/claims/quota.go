package claims

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Project quotas (ext4 mounted with prjquota, xfs with prjquota/pquota)
// make a claim's resources.requests.storage a hard limit: the claim's
// directory gets a project ID that its files inherit, and the project a
// block limit. golang.org/x/sys has neither the ioctls nor quotactl's
// structures, so they are written out here from linux/fs.h and
// linux/quota.h.
const (
	fsIocFsGetXattr    = 0x801c581f // _IOR('X', 31, struct fsxattr)
	fsIocFsSetXattr    = 0x401c5820 // _IOW('X', 32, struct fsxattr)
	fsXflagProjInherit = 0x200
	qGetQuota          = 0x800007
	qSetQuota          = 0x800008
	prjQuota           = 2
	qifBLimits         = 1
	quotaBlock         = 1024 // dqb_bhardlimit is in 1 KiB blocks
)

type fsxattr struct {
	Xflags     uint32
	Extsize    uint32
	Nextents   uint32
	Projid     uint32
	Cowextsize uint32
	Pad        [8]byte
}

type ifDqblk struct {
	BHardlimit uint64
	BSoftlimit uint64
	CurSpace   uint64
	IHardlimit uint64
	ISoftlimit uint64
	CurInodes  uint64
	BTime      uint64
	ITime      uint64
	Valid      uint32
	_          uint32
}

func qcmd(cmd, typ int) int { return cmd<<8 | typ&0xff }

func quotactl(cmd int, device string, id uint32, addr unsafe.Pointer) error {
	dev, err := unix.BytePtrFromString(device)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall6(unix.SYS_QUOTACTL, uintptr(cmd), uintptr(unsafe.Pointer(dev)), uintptr(id), uintptr(addr), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getXattr(path string) (fsxattr, error) {
	var x fsxattr
	f, err := os.Open(path)
	if err != nil {
		return x, err
	}
	defer f.Close()
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFsGetXattr, uintptr(unsafe.Pointer(&x)))
	if e != 0 {
		return x, e
	}
	return x, nil
}

func setProject(path string, id uint32) error {
	x, err := getXattr(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	x.Projid = id
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		x.Xflags |= fsXflagProjInherit
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFsSetXattr, uintptr(unsafe.Pointer(&x)))
	if e != 0 {
		return e
	}
	return nil
}

// quotaDevice is the block device of the filesystem holding dir, when
// that filesystem enforces project quotas ("" otherwise).
func quotaDevice(dir string) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	return quotaDeviceIn(string(data), real)
}

// quotaDeviceIn finds, in a mountinfo text, the mount holding path (the
// longest mount point above it) and returns its source when it is an ext4
// or xfs mounted with project quotas.
func quotaDeviceIn(mountinfo, path string) string {
	best, device := "", ""
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	for sc.Scan() {
		// id parent maj:min root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mp := fields[4]
		if !(path == mp || mp == "/" || strings.HasPrefix(path, mp+"/")) || len(mp) < len(best) {
			continue
		}
		best, device = mp, ""
		fstype, source, super := fields[sep+1], fields[sep+2], fields[sep+3]
		if (fstype == "ext4" || fstype == "xfs") && (strings.Contains(super, "prjquota") || strings.Contains(super, "pquota")) {
			device = source
		}
	}
	return device
}

// projectID is the project of a claim: stable for its path, in a range
// the distribution's own projects (/etc/projid) do not use.
func projectID(dir string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(dir))
	return 1<<30 | h.Sum32()&(1<<30-1)
}

// Limit makes bytes the hard limit of the claim's directory where its
// filesystem has project quotas, and reports whether it is enforced. The
// directory's files (and those made later) join its project.
func Limit(dir string, bytes int64) (bool, error) {
	device := quotaDevice(dir)
	if device == "" || bytes <= 0 {
		return false, nil
	}
	id := projectID(dir)
	x, err := getXattr(dir)
	if err != nil {
		return false, fmt.Errorf("quota of %s: %w", dir, err)
	}
	if x.Projid != id || x.Xflags&fsXflagProjInherit == 0 {
		// First limit: the files already there count for the claim too.
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 || !(d.IsDir() || d.Type().IsRegular()) {
				return nil
			}
			return setProject(p, id)
		})
		if err != nil {
			return false, fmt.Errorf("quota of %s: set its project: %w", dir, err)
		}
	}
	blocks := uint64((bytes + quotaBlock - 1) / quotaBlock)
	q := ifDqblk{BHardlimit: blocks, BSoftlimit: blocks, Valid: qifBLimits}
	if err := quotactl(qcmd(qSetQuota, prjQuota), device, id, unsafe.Pointer(&q)); err != nil {
		return false, fmt.Errorf("quota of %s on %s: %w", dir, device, err)
	}
	return true, nil
}

// usage reads the claim's quota: its limit and the space its files take
// (ok false when the directory has no quota).
func usage(dir string) (limit, used int64, ok bool) {
	device := quotaDevice(dir)
	if device == "" {
		return 0, 0, false
	}
	x, err := getXattr(dir)
	if err != nil || x.Projid == 0 {
		return 0, 0, false
	}
	var q ifDqblk
	if err := quotactl(qcmd(qGetQuota, prjQuota), device, x.Projid, unsafe.Pointer(&q)); err != nil {
		return 0, 0, false // ESRCH: quotas are off; ENOENT: no such project
	}
	if q.BHardlimit == 0 {
		return 0, int64(q.CurSpace), false
	}
	return int64(q.BHardlimit) * quotaBlock, int64(q.CurSpace), true
}
