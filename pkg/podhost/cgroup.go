package podhost

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RemoveCgroup removes the pod's cgroup directory (cgroupParent, relative to
// each hierarchy's root) from every mounted cgroup hierarchy, v1 and v2.
// runc removes the containers' own cgroups; their parent is minilet's to
// remove. A directory that is already gone is fine.
func RemoveCgroup(parent string) error {
	if parent == "" {
		return nil
	}
	roots, err := cgroupRoots()
	if err != nil {
		return err
	}
	var errs []error
	for _, root := range roots {
		dir := filepath.Join(root, filepath.Clean("/"+parent))
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// cgroupRoots lists the mount points of cgroup hierarchies.
func cgroupRoots() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var roots []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts ... - fstype source superopts
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) {
				if fs := fields[i+1]; (fs == "cgroup" || fs == "cgroup2") && len(fields) > 4 {
					roots = append(roots, fields[4])
				}
				break
			}
		}
	}
	return roots, sc.Err()
}

// RemoveCgroup removes the pod's cgroup; see the package function.
func (Host) RemoveCgroup(parent string) error { return RemoveCgroup(parent) }
