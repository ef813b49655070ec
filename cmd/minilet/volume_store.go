package main

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/claims"
	"github.com/minilet/minilet/pkg/pod"
)

// volumeStore answers the volumes API (server.VolumeStore) from the claims'
// directories, the claim documents and the pods that mount them.
type volumeStore struct {
	mgr   *pod.Manager
	store claims.Store
}

func (v volumeStore) Volumes() ([]claims.Volume, error) {
	dirs, err := v.store.List()
	if err != nil {
		return nil, err
	}
	byKey := map[string]claims.Volume{}
	for _, d := range dirs {
		byKey[d.Namespace+"/"+d.Name] = d
	}
	for _, c := range v.mgr.Claims() {
		k := c.Namespace + "/" + c.Name
		vol, ok := byKey[k]
		if !ok {
			// A claim no pod has mounted yet: no directory.
			vol = claims.Volume{Namespace: c.Namespace, Name: c.Name, Path: v.store.Dir(c.Namespace, c.Name), Bytes: -1}
		}
		vol.Claim = true
		if q, ok := c.Spec.Resources.Requests[v1.ResourceStorage]; ok {
			vol.Request = q.String()
		}
		for _, m := range c.Spec.AccessModes {
			vol.AccessModes = append(vol.AccessModes, string(m))
		}
		if c.Spec.StorageClassName != nil {
			vol.StorageClass = *c.Spec.StorageClassName
		}
		byKey[k] = vol
	}
	users := v.mgr.ClaimUsers()
	out := make([]claims.Volume, 0, len(byKey))
	for k, vol := range byKey {
		vol.Pods = users[k]
		out = append(out, vol)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (v volumeStore) RemoveVolume(namespace, name string) error {
	return v.mgr.RemoveClaimData(namespace, name, func() error { return v.store.Remove(namespace, name) })
}

// RemoveClaim is RemoveVolume for the StatefulSet controller (retention
// policy Delete); a claim whose data is already gone is removed.
func (v volumeStore) RemoveClaim(namespace, name string) error {
	if _, err := os.Lstat(v.store.Dir(namespace, name)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return v.RemoveVolume(namespace, name)
}
