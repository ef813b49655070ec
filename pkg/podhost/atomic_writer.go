package podhost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minilet/minilet/pkg/podvolume"
)

// The layout of a volume whose files minilet writes, the kubelet's
// AtomicWriter's:
//
//	<dir>/..2026_12_03_17_37_21.123456789/<files>  the current payload
//	<dir>/..data -> ..2026_12_03_17_37_21.123456789
//	<dir>/<key>  -> ..data/<key>                    one per top-level name
//
// An update writes a new timestamped directory and swaps ..data with one
// rename, so a reader that resolves ..data once sees the old files or the
// new ones, never a mix; the old directory is removed afterwards.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// Permission bits fsGroup adds to files minilet writes (read-only volumes),
// as the kubelet's SetVolumeOwnership.
const groupRead = fs.FileMode(0o440)

// writeAtomic makes dir hold exactly payload. It does nothing (and returns
// false) when dir already does. gid, when set, owns every file, which gets
// group read.
func writeAtomic(dir string, payload podvolume.Payload, gid *int64) (bool, error) {
	for p := range payload {
		if err := checkPayloadPath(p); err != nil {
			return false, err
		}
	}
	old, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", dataDirName, err)
	}
	if old != "" && holds(filepath.Join(dir, old), payload, gid) && linksRight(dir, payload) {
		return false, nil
	}
	ts, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("make the volume's new directory: %w", err)
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return false, err
	}
	if err := writePayload(ts, payload, gid); err != nil {
		os.RemoveAll(ts)
		return false, err
	}
	// The swap: one rename of a symlink.
	tmp := filepath.Join(dir, newDataDirName)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataDirName)); err != nil {
		return false, fmt.Errorf("swap the volume's files: %w", err)
	}
	if err := updateLinks(dir, payload); err != nil {
		return true, err
	}
	// Old timestamped directories go last: the current one, and any an
	// interrupted write left.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return true, err
	}
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() && strings.HasPrefix(n, "..") && n != filepath.Base(ts) {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, n)))
		}
	}
	return true, errors.Join(errs...)
}

// checkPayloadPath refuses a path that could leave the volume.
func checkPayloadPath(p string) error {
	switch {
	case p == "" || p == ".":
		return fmt.Errorf("empty path in a volume")
	case filepath.IsAbs(p):
		return fmt.Errorf("path %q in a volume must be relative", p)
	case strings.HasPrefix(p, ".."):
		return fmt.Errorf("path %q in a volume must not start with '..'", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("path %q in a volume must not contain '..'", p)
		}
	}
	return nil
}

func writePayload(ts string, payload podvolume.Payload, gid *int64) error {
	for p, f := range payload {
		path := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		mode := f.Mode.Perm()
		if gid != nil {
			mode |= groupRead
		}
		fd, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, werr := fd.Write(f.Data)
		if gid != nil && werr == nil {
			werr = fd.Chown(-1, int(*gid))
		}
		if werr == nil {
			werr = fd.Chmod(mode) // after chown, which may clear setgid bits; and not subject to umask
		}
		if err := errors.Join(werr, fd.Close()); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// holds reports whether the directory ts holds exactly payload, modes
// (and group) included.
func holds(ts string, payload podvolume.Payload, gid *int64) bool {
	seen := 0
	err := filepath.WalkDir(ts, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(ts, path)
		f, ok := payload[rel]
		if !ok || !d.Type().IsRegular() {
			return errDiffers
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := f.Mode.Perm()
		if gid != nil {
			want |= groupRead
		}
		if info.Mode().Perm() != want || (gid != nil && fileGID(info) != *gid) {
			return errDiffers
		}
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(data, f.Data) {
			return errDiffers
		}
		seen++
		return nil
	})
	return err == nil && seen == len(payload)
}

var errDiffers = errors.New("differs")

// topLevel is the set of first path elements of a payload.
func topLevel(payload podvolume.Payload) map[string]bool {
	out := map[string]bool{}
	for p := range payload {
		first, _, _ := strings.Cut(p, "/")
		out[first] = true
	}
	return out
}

// linksRight reports whether every top-level name links into ..data and
// nothing else is there.
func linksRight(dir string, payload podvolume.Payload) bool {
	want := topLevel(payload)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "..") {
			continue
		}
		if !want[name] {
			return false
		}
		if t, err := os.Readlink(filepath.Join(dir, name)); err != nil || t != filepath.Join(dataDirName, name) {
			return false
		}
		n++
	}
	return n == len(want)
}

// updateLinks makes a link <name> → ..data/<name> for every top-level name
// of payload and removes the names that are no longer in it.
func updateLinks(dir string, payload podvolume.Payload) error {
	want := topLevel(payload)
	for name := range want {
		link, target := filepath.Join(dir, name), filepath.Join(dataDirName, name)
		if t, err := os.Readlink(link); err == nil && t == target {
			continue
		}
		tmp := filepath.Join(dir, "..tmp_link")
		os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if name := e.Name(); !strings.HasPrefix(name, "..") && !want[name] {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}
