package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// isManifestName reports whether a directory entry is read as a manifest:
// *.yaml, *.yml or *.json, not hidden, not an editor's leftover.
func isManifestName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	for _, junk := range []string{"~", ".swp", ".bak", ".tmp"} {
		if strings.HasSuffix(name, junk) {
			return false
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// fileResult is what one manifest file gave on one scan.
type fileResult struct {
	path      string // absolute path in the directory
	pods      []Pod
	objects   []Object
	workloads []Workload
	err       error // why the file cannot be used now; nil when it can
}

// errNotAFile marks entries that are skipped silently (a directory, or a
// symlink to one).
var errNotAFile = errors.New("not a file")

// listDir reads every manifest of dir, sorted by path. The error is about
// the directory itself: it could not be listed (every file's fate is then
// unknown), or with StrictPerms it is not safe (every file is refused).
func listDir(dir string, opts Options) ([]fileResult, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list manifest directory: %w", err)
	}
	var dirErr error
	if opts.StrictPerms {
		if fi, err := os.Stat(dir); err != nil {
			dirErr = fmt.Errorf("cannot check manifest directory: %w", err)
		} else if err := checkPerms(fi, "directory"); err != nil {
			dirErr = err
		}
	}
	var out []fileResult
	for _, e := range entries {
		name := e.Name()
		if !isManifestName(name) {
			continue
		}
		path := filepath.Join(dir, name)
		if dirErr != nil {
			out = append(out, fileResult{path: path, err: fmt.Errorf("refused because the manifest directory %s is unsafe", dir)})
			continue
		}
		data, perm, err := readManifest(dir, path, opts)
		if errors.Is(err, errNotAFile) {
			continue
		}
		if errors.Is(err, fs.ErrNotExist) && !isSymlink(path) {
			continue // removed while we scanned
		}
		r := fileResult{path: path, err: err}
		if err == nil {
			d, derr := decodeFile(path, data, opts)
			if derr == nil {
				derr = checkSecretPerms(d.objects, perm)
			}
			r.pods, r.objects, r.workloads, r.err = d.pods, d.objects, d.workloads, derr
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b fileResult) int { return strings.Compare(a.path, b.path) })
	return out, dirErr
}

func isSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// readManifest reads one file, refusing what is unsafe or too big, and
// returns its permission bits. It never blocks on a FIFO and reads at most
// MaxFileSize+1 bytes.
func readManifest(dir, path string, opts Options) ([]byte, fs.FileMode, error) {
	data, st, err := readFile(dir, path, opts)
	if err != nil {
		return nil, 0, err
	}
	return data, st.Mode().Perm(), nil
}

// checkSecretPerms refuses a file holding a Secret that group or others
// can read, as ssh refuses a private key others can read.
func checkSecretPerms(objs []Object, perm fs.FileMode) error {
	if perm&0o044 == 0 {
		return nil
	}
	for _, o := range objs {
		if o.Secret != nil {
			return fmt.Errorf("file holds Secret %s/%s but is readable by group or others (mode %04o); refused so that the secret stays secret (chmod 600 the file)", o.Secret.Namespace, o.Secret.Name, perm)
		}
	}
	return nil
}

func readFile(dir, path string, opts Options) ([]byte, fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	open := path
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	switch {
	case fi.IsDir():
		return nil, nil, errNotAFile
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, nil, fmt.Errorf("broken symlink: %w", err)
		}
		if !opts.FollowSymlinks {
			realDir, err := filepath.EvalSymlinks(dir)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot resolve the manifest directory: %w", err)
			}
			if rel, err := filepath.Rel(realDir, target); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				return nil, nil, fmt.Errorf("symlink points outside the manifest directory, to %s; refused (following such symlinks is off)", target)
			}
		}
		open = target
	default:
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(open, flags, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot stat: %w", err)
	}
	switch {
	case st.IsDir():
		return nil, nil, errNotAFile
	case !st.Mode().IsRegular():
		return nil, nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	case st.Size() > MaxFileSize:
		return nil, nil, tooBig(st.Size())
	}
	if opts.StrictPerms {
		if err := checkPerms(st, "file"); err != nil {
			return nil, nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, tooBig(-1)
	}
	return data, st, nil
}

// checkPerms refuses, like sshd's StrictModes, what group or others can
// write and what root does not own.
func checkPerms(fi fs.FileInfo, what string) error {
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o); refused because strict permissions are on (chmod go-w)", what, m)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root; refused because strict permissions are on", what, st.Uid)
	}
	return nil
}
