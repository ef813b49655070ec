package containerd

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"golang.org/x/sys/unix"
)

// RemoveImage removes the image named ref and, synchronously, the content
// and snapshots nothing else uses. An image already gone is not an error.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	ctx = r.ctx(ctx)
	named, err := normalizeRef(ref)
	if err != nil {
		named = ref
	}
	err = r.client.ImageService().Delete(ctx, named, images.SynchronousDelete())
	r.forgetImage(named)
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove image %s: %w", ref, wrap(err))
	}
	return nil
}

// ImageFS reports the size of the filesystem holding the snapshotter's
// data (the CRI's image filesystem): where containerd says its
// snapshotter's root is.
func (r *Runtime) ImageFS(ctx context.Context) (capacity, available int64, err error) {
	root, err := r.snapshotterRoot(ctx)
	if err != nil {
		return 0, 0, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return 0, 0, fmt.Errorf("image filesystem %s: %w", root, err)
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize, nil
}

// ImageFSPath is the directory of containerd's snapshots: the image
// filesystem of the eviction signals.
func (r *Runtime) ImageFSPath(ctx context.Context) (string, error) { return r.snapshotterRoot(ctx) }

func (r *Runtime) snapshotterRoot(ctx context.Context) (string, error) {
	name := r.opts.Snapshotter
	if name == "" {
		name = "overlayfs"
	}
	resp, err := r.client.IntrospectionService().Plugins(r.ctx(ctx), []string{"type==io.containerd.snapshotter.v1,id==" + name})
	if err != nil {
		return "", fmt.Errorf("ask containerd where snapshotter %s keeps its data: %w", name, wrap(err))
	}
	for _, p := range resp.Plugins {
		if root := p.Exports["root"]; root != "" {
			return root, nil
		}
	}
	return "", fmt.Errorf("containerd does not say where snapshotter %s keeps its data", name)
}

// RemoveNamespace removes minilet's containerd namespace; containerd
// refuses while it still holds containers, images, snapshots or leases.
func (r *Runtime) RemoveNamespace(ctx context.Context) error {
	if err := r.client.NamespaceService().Delete(ctx, r.opts.Namespace); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove containerd namespace %s: %w", r.opts.Namespace, wrap(err))
	}
	return nil
}
