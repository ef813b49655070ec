package imagegc

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// InUseError: the image cannot be removed, a pod needs it.
type InUseError struct{ msg string }

func (e *InUseError) Error() string { return e.msg }

// InUse marks the error as a conflict (HTTP 409).
func (e *InUseError) InUse() bool { return true }

// Pull pulls ref as a pod with imagePullPolicy Always would, with the
// daemon's credentials (minilet images pull).
func (m *Manager) Pull(ctx context.Context, ref string) (runtime.Image, error) {
	return m.store.EnsureImage(ctx, ref, runtime.PullAlways)
}

// Remove removes the image ref, every name of it, unless a container uses
// it, a pod's spec names it or it is the pause image (minilet images rm).
func (m *Manager) Remove(ctx context.Context, ref string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	imgs, err := m.observeLocked(ctx)
	if err != nil {
		return nil, err
	}
	want := normalize(ref)
	for _, im := range imgs {
		match := im.ID == ref || strings.TrimPrefix(im.ID, "sha256:") == ref
		for _, r := range im.Refs {
			match = match || normalize(r) == want
		}
		if !match {
			continue
		}
		switch {
		case im.Pinned:
			return nil, &InUseError{fmt.Sprintf("image %s is minilet's pause image", ref)}
		case im.InUse:
			return nil, &InUseError{fmt.Sprintf("image %s is in use by pod(s) %s: remove them first", ref, strings.Join(m.podsUsing(im), ", "))}
		}
		if err := m.remove(ctx, im); err != nil {
			return nil, err
		}
		if m.rec != nil {
			m.rec.ImageGCFreed(im.Size, 1)
		}
		return im.Refs, nil
	}
	return nil, fmt.Errorf("image %q: %w", ref, runtime.ErrNotFound)
}

// Prune removes every image no pod needs that is older than the minimum
// age (minilet images prune), and returns their names and sizes.
func (m *Manager) Prune(ctx context.Context) (removed []string, freed int64, err error) {
	res, err := m.Collect(ctx, true)
	return res.Removed, res.Freed, err
}

// podsUsing names the pods whose spec names one of im's names (or a
// container of the runtime that uses it, when no pod names it).
func (m *Manager) podsUsing(im Image) []string {
	names := map[string]bool{}
	for _, r := range im.Refs {
		names[normalize(r)] = true
	}
	var out []string
	for _, p := range m.pods.Pods() {
		for _, list := range [][]v1.Container{p.Spec.InitContainers, p.Spec.Containers} {
			for _, c := range list {
				if key := p.Namespace + "/" + p.Name; names[normalize(c.Image)] && !slices.Contains(out, key) {
					out = append(out, key)
				}
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(a container in containerd)"}
	}
	return out
}
