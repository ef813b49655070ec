package podhost

import "golang.org/x/sys/unix"

type syscallStatfs = unix.Statfs_t

const tmpfsMagic = unix.TMPFS_MAGIC

func statfsCall(dir string, s *unix.Statfs_t) error { return unix.Statfs(dir, s) }
