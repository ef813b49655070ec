package network

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// sweepEmptyAllocations removes the IP allocations of the host-local
// plugin that name no owner: host-local makes an IP's file, then writes
// the container ID into it, so a plugin killed in between (with the
// daemon that ran it) leaves an empty file that no DEL ever matches, and
// the IP is lost for good. It holds host-local's own lock on the
// directory while it looks, so an ADD in flight is never disturbed. It
// returns the IPs it freed.
func sweepEmptyAllocations(dir string) ([]string, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN) //nolint:errcheck
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var freed []string
	for _, e := range ents {
		if !e.Type().IsRegular() || net.ParseIP(e.Name()) == nil {
			continue // lock, last_reserved_ip.N
		}
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
				freed = append(freed, e.Name())
			}
		}
	}
	return freed, nil
}
