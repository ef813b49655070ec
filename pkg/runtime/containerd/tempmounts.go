package containerd

import (
	"errors"
	"fmt"

	"github.com/containerd/containerd/mount"
	"golang.org/x/sys/unix"
)

// PrepareTempMounts makes dir the place where the containerd client mounts
// an image's snapshot for a moment (oci.WithUser and WithAdditionalGIDs
// read /etc/passwd and /etc/group through it), and unmounts and removes
// what a killed daemon left there: a SIGKILL inside such a mount leaves it
// mounted for good otherwise (the randomized crash test of the workloads
// found one in /tmp). containerd keeps this location process-wide: call
// it once, from main, before the first container is made.
func PrepareTempMounts(dir string) error {
	if err := mount.SetTempMountLocation(dir); err != nil {
		return fmt.Errorf("temp mount dir %s: %w", dir, err)
	}
	warnings, err := mount.CleanupTempMounts(unix.MNT_DETACH)
	if err != nil {
		return fmt.Errorf("unmount what a previous run left in %s: %w", dir, err)
	}
	return errors.Join(warnings...)
}
