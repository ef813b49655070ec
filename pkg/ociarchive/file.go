package ociarchive

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// File is one entry of the image's single layer.
type File struct {
	// Path is where the entry lives in the image, such as "/bin/busybox".
	// A leading slash is optional; ".." components are rejected.
	Path string
	// Mode holds the permission bits, plus os.ModeSetuid, os.ModeSetgid and
	// os.ModeSticky. Zero means 0644 for a file and 0755 for a directory.
	Mode os.FileMode
	// Data is the content of a regular file.
	Data []byte
	// Link, when set, makes the entry a symbolic link to Link.
	Link string
	// Dir makes the entry a directory.
	Dir bool
}

// entry is a File with a cleaned, relative name, ready for the layer tar.
type entry struct {
	name string // "bin/busybox", no leading slash, no trailing slash
	File
}

const (
	defaultFileMode os.FileMode = 0o644
	defaultDirMode  os.FileMode = 0o755
)

// cleanName turns an image path into a layer tar name, rejecting paths that
// are empty, name the root or climb out of it.
func cleanName(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q: \"..\" is not allowed", p)
		}
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		return "", fmt.Errorf("path %q names the root directory", p)
	}
	return name, nil
}

// entries validates files, adds every missing parent directory and returns
// the layer's entries sorted by name, so that parents come before children
// and the same files always give the same layer.
func entries(files []File) ([]entry, error) {
	byName := make(map[string]entry, len(files))
	for _, f := range files {
		name, err := cleanName(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("path %q: listed twice", f.Path)
		}
		if f.Dir && (f.Link != "" || len(f.Data) > 0) {
			return nil, fmt.Errorf("path %q: a directory cannot have data or a link target", f.Path)
		}
		if f.Link != "" && len(f.Data) > 0 {
			return nil, fmt.Errorf("path %q: a symlink cannot have data", f.Path)
		}
		if f.Mode&^(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 {
			return nil, fmt.Errorf("path %q: mode %v has type bits; use Dir or Link", f.Path, f.Mode)
		}
		if f.Mode == 0 {
			if f.Dir {
				f.Mode = defaultDirMode
			} else {
				f.Mode = defaultFileMode
			}
		}
		byName[name] = entry{name: name, File: f}
	}
	for name := range byName {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			parent, ok := byName[dir]
			if !ok {
				byName[dir] = entry{name: dir, File: File{Path: "/" + dir, Dir: true, Mode: defaultDirMode}}
				continue
			}
			if !parent.Dir {
				return nil, fmt.Errorf("path %q: parent %q is not a directory", name, parent.Path)
			}
		}
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}
