package containerlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// rotatedLayout is the time suffix of a rotated file, in UTC so that
// names sort in time order. The kubelet's own suffix (no fraction) is
// read too.
const (
	rotatedLayout       = "20060102-150405.000000"
	kubeletRotateLayout = "20060102-150405"
)

// rotatedFile is one rotated log file.
type rotatedFile struct {
	path string
	at   time.Time
}

// rotatedName returns a free name for path rotated at t: the time suffix,
// moved on by a microsecond while a file of that name exists.
func rotatedName(path string, t time.Time) (string, error) {
	t = t.UTC()
	for range 1000 {
		name := path + "." + t.Format(rotatedLayout)
		if _, err := os.Lstat(name); os.IsNotExist(err) {
			return name, nil
		}
		t = t.Add(time.Microsecond)
	}
	return "", fmt.Errorf("no free rotated name for %s", path)
}

// listRotated returns the rotated files of path, oldest first. Other
// files in the directory (compressed or temporary ones) are ignored.
func listRotated(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list rotated logs of %s: %w", path, err)
	}
	var out []rotatedFile
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		at, err := time.Parse(rotatedLayout, suffix)
		if err != nil {
			at, err = time.Parse(kubeletRotateLayout, suffix)
		}
		if err != nil {
			continue
		}
		out = append(out, rotatedFile{path: filepath.Join(dir, e.Name()), at: at})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

// pruneRotated removes the oldest rotated files of path so that at most
// keep remain.
func pruneRotated(path string, keep int) error {
	files, err := listRotated(path)
	if err != nil {
		return err
	}
	var firstErr error
	for len(files) > max(keep, 0) {
		if err := os.Remove(files[0].path); err != nil && !os.IsNotExist(err) && firstErr == nil {
			firstErr = fmt.Errorf("remove old log: %w", err)
		}
		files = files[1:]
	}
	return firstErr
}

// Remove removes the log at path and its rotated files, as the kubelet
// removes a container's log with the container. Files already gone are
// no error.
func Remove(path string) error {
	files, err := listRotated(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var errs []error
	for _, f := range append(files, rotatedFile{path: path}) {
		if err := os.Remove(f.path); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("remove log: %w", err))
		}
	}
	return errors.Join(errs...)
}

// sameFile tells whether the file at path is fi.
func sameFile(path string, fi fs.FileInfo) bool {
	cur, err := os.Stat(path)
	return err == nil && os.SameFile(cur, fi)
}
