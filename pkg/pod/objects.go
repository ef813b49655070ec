package pod

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// Objects returns the ConfigMaps, Secrets and PersistentVolumeClaims of the
// desired State (copies), each stamped with the time this daemon first saw
// it, sorted by kind, namespace and name. Secrets hold their values: the
// caller decides what to show.
func (m *Manager) Objects() []manifest.Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.desired == nil {
		return nil
	}
	out := make([]manifest.Object, 0, len(m.desired.Objects))
	for _, o := range m.desired.Objects {
		c := o.DeepCopy()
		c.Meta().CreationTimestamp = metav1.NewTime(m.objSeen[o.Key()])
		if c.Claim != nil {
			m.claimStatus(c.Claim)
		}
		out = append(out, c)
	}
	return out
}

// claimStatus fills in a claim's status: Bound to its directory on this
// host once a pod has made it, Pending until then (as a claim of a
// WaitForFirstConsumer class waits for its first pod). Call with m.mu
// held.
func (m *Manager) claimStatus(c *v1.PersistentVolumeClaim) {
	root := m.d.cfg.VolumeDir
	if root == "" {
		root = filepath.Join(m.d.cfg.RootDir, "volumes")
	}
	if _, err := os.Stat(filepath.Join(root, c.Namespace, c.Name)); err != nil {
		c.Status.Phase = v1.ClaimPending
		return
	}
	c.Status.Phase = v1.ClaimBound
	c.Status.AccessModes = slices.Clone(c.Spec.AccessModes)
	if q, ok := c.Spec.Resources.Requests[v1.ResourceStorage]; ok {
		c.Status.Capacity = v1.ResourceList{v1.ResourceStorage: q.DeepCopy()}
	}
	c.Spec.VolumeName = "local-" + c.Namespace + "-" + c.Name
}

// noteObjects remembers when each object was first seen (its age, as
// kubectl shows it: an edit keeps it). Call with m.mu held.
func (m *Manager) noteObjects(objs []manifest.Object) {
	now := m.d.now()
	seen := make(map[string]time.Time, len(objs))
	for _, o := range objs {
		t, ok := m.objSeen[o.Key()]
		if !ok {
			t = now
		}
		seen[o.Key()] = t
	}
	m.objSeen = seen
}

// ClaimUsers returns, by "<namespace>/<claim>", the pods (running or
// stopping) that mount each claim.
func (m *Manager) ClaimUsers() map[string][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claimUsersLocked()
}

func (m *Manager) claimUsersLocked() map[string][]string {
	out := map[string][]string{}
	for _, w := range m.allLocked() {
		p := w.record().Pod
		for _, v := range p.Spec.Volumes {
			if c := v.PersistentVolumeClaim; c != nil {
				k := p.Namespace + "/" + c.ClaimName
				if !slices.Contains(out[k], p.Name) {
					out[k] = append(out[k], p.Name)
				}
			}
		}
	}
	for _, names := range out {
		sort.Strings(names)
	}
	return out
}

// RemoveClaimData runs remove (which deletes the claim's data) unless a
// pod mounts the claim; no pod can start to mount it meanwhile.
func (m *Manager) RemoveClaimData(namespace, name string, remove func() error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if users := m.claimUsersLocked()[namespace+"/"+name]; len(users) > 0 {
		return fmt.Errorf("volume %s/%s is in use by pod %s; stop the pod first", namespace, name, strings.Join(users, ", "))
	}
	return remove()
}

// ConfigMaps returns the ConfigMaps of the manifest directory
// (server.ObjectSource).
func (m *Manager) ConfigMaps() []v1.ConfigMap {
	var out []v1.ConfigMap
	for _, o := range m.Objects() {
		if o.ConfigMap != nil {
			out = append(out, *o.ConfigMap)
		}
	}
	return out
}

// Secrets returns the Secrets of the manifest directory, values included
// (server.ObjectSource, which never sends them).
func (m *Manager) Secrets() []v1.Secret {
	var out []v1.Secret
	for _, o := range m.Objects() {
		if o.Secret != nil {
			out = append(out, *o.Secret)
		}
	}
	return out
}

// Claims returns the PersistentVolumeClaims of the manifest directory,
// each Bound to its directory on this host (server.ObjectSource).
func (m *Manager) Claims() []v1.PersistentVolumeClaim {
	var out []v1.PersistentVolumeClaim
	for _, o := range m.Objects() {
		if o.Claim != nil {
			out = append(out, *o.Claim)
		}
	}
	return out
}
