package podhost

import (
	"fmt"
	"os"

	v1 "k8s.io/api/core/v1"
)

// checkHostPath applies a hostPath volume's type, as the kubelet does:
// *OrCreate types create what is missing, the others require it.
func checkHostPath(h *v1.HostPathVolumeSource) error {
	typ := v1.HostPathUnset
	if h.Type != nil {
		typ = *h.Type
	}
	fi, err := os.Stat(h.Path)
	exists := err == nil
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("hostPath %s: %w", h.Path, err)
	}
	want := func(ok bool, what string) error {
		if !exists {
			return fmt.Errorf("hostPath %s: does not exist, and type %s requires %s", h.Path, typ, what)
		}
		if !ok {
			return fmt.Errorf("hostPath %s: is not %s (type %s)", h.Path, what, typ)
		}
		return nil
	}
	switch typ {
	case v1.HostPathUnset:
		return nil
	case v1.HostPathDirectoryOrCreate:
		if !exists {
			return os.MkdirAll(h.Path, 0o755)
		}
		return want(fi.IsDir(), "a directory")
	case v1.HostPathDirectory:
		return want(exists && fi.IsDir(), "a directory")
	case v1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("hostPath %s: %w", h.Path, err)
			}
			return f.Close()
		}
		return want(fi.Mode().IsRegular(), "a file")
	case v1.HostPathFile:
		return want(exists && fi.Mode().IsRegular(), "a file")
	case v1.HostPathSocket:
		return want(exists && fi.Mode()&os.ModeSocket != 0, "a socket")
	case v1.HostPathCharDev:
		return want(exists && fi.Mode()&os.ModeCharDevice != 0, "a character device")
	case v1.HostPathBlockDev:
		return want(exists && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0, "a block device")
	}
	return fmt.Errorf("hostPath %s: unknown type %q", h.Path, typ)
}
