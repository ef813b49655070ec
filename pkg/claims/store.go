package claims

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Volume is one claim's data as `minilet volumes ls` shows it.
type Volume struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	// Bytes is the disk space the directory's files take (-1: unknown).
	Bytes int64 `json:"bytes"`
	// Pods are the pods (of the namespace) that mount the claim now.
	Pods []string `json:"pods,omitempty"`
	// Claim: a PersistentVolumeClaim document names it; without one the
	// data is kept but no new pod can mount it.
	Claim bool `json:"claim"`
	// Made: the directory exists (a claim no pod has mounted yet has none).
	Made bool `json:"made"`
	// Request, AccessModes and StorageClass come from the claim document.
	Request      string   `json:"request,omitempty"`
	AccessModes  []string `json:"accessModes,omitempty"`
	StorageClass string   `json:"storageClass,omitempty"`
	// Enforced tells whether the request is a hard limit on this
	// filesystem (false: shown, not enforced).
	Enforced bool `json:"enforced"`
}

// VolumeList is the answer of the volumes API.
type VolumeList struct {
	Items []Volume `json:"items"`
}

// Store is the claims' directories under Root.
type Store struct {
	Root string
}

// Dir is the directory of the claim namespace/name.
func (s Store) Dir(namespace, name string) string {
	return filepath.Join(s.Root, namespace, name)
}

// List returns the claim directories that exist, sorted, with the space
// their files take.
func (s Store) List() ([]Volume, error) {
	nss, err := os.ReadDir(s.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list claims: %w", err)
	}
	var out []Volume
	for _, ns := range nss {
		if !ns.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(s.Root, ns.Name()))
		if err != nil {
			return nil, fmt.Errorf("list claims: %w", err)
		}
		for _, n := range names {
			if !n.IsDir() {
				continue
			}
			dir := s.Dir(ns.Name(), n.Name())
			v := Volume{Namespace: ns.Name(), Name: n.Name(), Path: dir, Made: true}
			if _, used, ok := usage(dir); ok {
				v.Bytes, v.Enforced = used, true // the quota counts it: no walk
			} else {
				v.Bytes = diskUsage(dir)
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Remove deletes the claim's data. The caller has made sure no pod mounts
// it.
func (s Store) Remove(namespace, name string) error {
	for _, part := range []string{namespace, name} {
		if msgs := validation.IsDNS1123Subdomain(part); len(msgs) > 0 {
			return fmt.Errorf("%q is not a claim name: %s", part, msgs[0])
		}
	}
	dir := s.Dir(namespace, name)
	if _, err := os.Lstat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("volume %s/%s: no data on this host", namespace, name)
		}
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s/%s: %w", namespace, name, err)
	}
	os.Remove(filepath.Join(s.Root, namespace)) // the namespace's directory, when it is empty
	return nil
}

// diskUsage is what du reports: the blocks of every file, each hard link
// counted once; -1 when it cannot be read.
func diskUsage(dir string) int64 {
	var total int64
	seen := map[[2]uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			total += info.Size()
			return nil
		}
		key := [2]uint64{st.Dev, st.Ino}
		if st.Nlink > 1 {
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		return -1
	}
	return total
}
