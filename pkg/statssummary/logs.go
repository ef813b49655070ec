package statssummary

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// dirUsage is the size of the regular files under dir and the count of
// its entries, dir included. A missing dir uses nothing; entries that
// vanish during the walk (rotated logs) are skipped.
func dirUsage(dir string) (bytes, inodes uint64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		inodes++
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				bytes += uint64(info.Size())
			}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	return bytes, inodes, err
}
