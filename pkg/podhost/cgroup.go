package podhost

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RemoveCgroup removes a cgroup directory (parent, relative to each
// hierarchy's root) with the cgroups below it, from every mounted cgroup
// hierarchy, v1 and v2. runc removes the containers' own cgroups; what is
// left once a pod's containers are gone is minilet's to remove: the pod's
// cgroup, and a container's whose task containerd lost while runc had made
// it (its "runc init" waits there forever). As the kubelet does for a pod
// cgroup it destroys, processes still in them are killed first. A
// directory that is already gone is fine.
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
		if err := removeCgroupTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes dir and the cgroups below it, deepest first,
// killing what runs in each.
func removeCgroupTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	var errs []error
	for _, e := range ents {
		if e.IsDir() {
			errs = append(errs, removeCgroupTree(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i := 0; ; i++ {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || i == 100 {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		killCgroupProcs(dir)
		time.Sleep(20 * time.Millisecond) // the killed processes' exit
	}
}

// killCgroupProcs sends SIGKILL to every process in the cgroup dir.
func killCgroupProcs(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
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
