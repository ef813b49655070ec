package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/platforms"
	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/runtime"
)

// EnsureImage makes ref present and unpacked according to policy. A pull
// tries each of creds, then the keychain's credentials (anonymous when it
// has none), as the kubelet tries a pod's pull secrets and then the
// node's; the error of each failed try is kept.
func (r *Runtime) EnsureImage(ctx context.Context, ref string, policy runtime.PullPolicy, creds ...runtime.Credential) (runtime.Image, error) {
	ctx = r.ctx(ctx)
	named, err := normalizeRef(ref)
	if err != nil {
		return runtime.Image{}, fmt.Errorf("image %q: %w", ref, err)
	}
	if policy != runtime.PullAlways {
		if img, ok := r.cachedImage(named); ok {
			return r.prepare(ctx, img)
		}
		img, err := r.client.GetImage(ctx, named)
		if err == nil {
			return r.prepare(ctx, img)
		}
		if !errdefs.IsNotFound(err) {
			return runtime.Image{}, wrap(err)
		}
		if policy == runtime.PullNever {
			return runtime.Image{}, fmt.Errorf("image %q is not present and imagePullPolicy is Never: %w", ref, runtime.ErrNotFound)
		}
	}
	start := time.Now()
	var img containerd.Image
	var errs []error
	for i := 0; i <= len(creds); i++ {
		var cred *runtime.Credential
		if i < len(creds) {
			cred = &creds[i]
		}
		img, err = r.client.Pull(ctx, named,
			containerd.WithPullUnpack,
			containerd.WithPullSnapshotter(r.opts.Snapshotter),
			containerd.WithResolver(r.resolver(ctx, named, cred)))
		if err == nil {
			break
		}
		errs = append(errs, wrap(err))
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if len(errs) == 1 {
			return runtime.Image{}, fmt.Errorf("pull image %q: %w", ref, errs[0])
		}
		return runtime.Image{}, fmt.Errorf("pull image %q with each of %d credentials: %w", ref, len(errs), errors.Join(errs...))
	}
	r.log.Info("pulled image", zap.String("image", named), zap.Duration("took", time.Since(start)))
	out, err := r.prepare(ctx, img)
	out.Pulled = true
	return out, err
}

// prepare unpacks img if needed and reads its config. What it learns is
// cached by manifest digest: the next container of the same image needs no
// round trip to containerd for it (the pod start hot path).
func (r *Runtime) prepare(ctx context.Context, img containerd.Image) (runtime.Image, error) {
	key := img.Target().Digest.String()
	r.mu.Lock()
	known := r.unpacked[key]
	r.mu.Unlock()
	if !known {
		unpacked, err := img.IsUnpacked(ctx, r.opts.Snapshotter)
		if err != nil {
			return runtime.Image{}, fmt.Errorf("image %q: %w", img.Name(), wrap(err))
		}
		if !unpacked {
			if err := img.Unpack(ctx, r.opts.Snapshotter); err != nil {
				return runtime.Image{}, fmt.Errorf("unpack image %q: %w", img.Name(), wrap(err))
			}
		}
	}
	out, err := r.describe(ctx, img, false)
	if err != nil {
		return out, err
	}
	r.mu.Lock()
	r.unpacked[key] = true
	r.images[img.Name()] = img
	r.mu.Unlock()
	return out, nil
}

// forgetImage drops what is cached of ref, after containerd said the image
// or its snapshot is gone.
func (r *Runtime) forgetImage(ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if img, ok := r.images[ref]; ok {
		delete(r.unpacked, img.Target().Digest.String())
		delete(r.images, ref)
	}
}

// cachedImage returns the image EnsureImage last prepared under ref.
func (r *Runtime) cachedImage(ref string) (containerd.Image, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	img, ok := r.images[ref]
	return img, ok
}

func (r *Runtime) describe(ctx context.Context, img containerd.Image, withSize bool) (runtime.Image, error) {
	cfgDesc, err := img.Config(ctx)
	if err != nil {
		return runtime.Image{}, fmt.Errorf("image %q config: %w", img.Name(), wrap(err))
	}
	out := runtime.Image{Ref: img.Name(), ID: cfgDesc.Digest.String(), Digest: img.Target().Digest.String()}
	r.mu.Lock()
	cfg, ok := r.imageConfig[out.ID]
	r.mu.Unlock()
	if !ok {
		spec, err := img.Spec(ctx)
		if err != nil {
			return runtime.Image{}, fmt.Errorf("image %q config: %w", img.Name(), wrap(err))
		}
		c := spec.Config
		cfg = runtime.ImageConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env,
			WorkingDir: c.WorkingDir, User: c.User, StopSignal: c.StopSignal}
		r.mu.Lock()
		r.imageConfig[out.ID] = cfg
		r.mu.Unlock()
	}
	out.Config = cfg
	if withSize {
		if size, err := img.Size(ctx); err == nil {
			out.Size = size
		}
	}
	return out, nil
}

// ListImages lists the images in minilet's namespace.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	ctx = r.ctx(ctx)
	imgs, err := r.client.ListImages(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]runtime.Image, 0, len(imgs))
	for _, img := range imgs {
		d, err := r.describe(ctx, img, true)
		if err != nil {
			// An image whose content is gone still gets listed by name.
			d = runtime.Image{Ref: img.Name(), Digest: img.Target().Digest.String()}
		}
		out = append(out, d)
	}
	return out, nil
}

// ImportImages imports an OCI or docker archive and unpacks what it holds.
// containerd checks every blob's digest while reading.
func (r *Runtime) ImportImages(ctx context.Context, archive io.Reader) ([]runtime.Image, error) {
	ctx = r.ctx(ctx)
	imported, err := r.client.Import(ctx, archive,
		containerd.WithImportPlatform(platforms.Default()))
	if err != nil {
		return nil, fmt.Errorf("import image archive: %w", wrap(err))
	}
	var out []runtime.Image
	var errs []error
	for _, im := range imported {
		img := containerd.NewImageWithPlatform(r.client, im, platforms.Default())
		d, err := r.prepare(ctx, img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}

// HasImage reports whether ref is present.
func (r *Runtime) HasImage(ctx context.Context, ref string) (bool, error) {
	named, err := normalizeRef(ref)
	if err != nil {
		return false, err
	}
	_, err = r.client.ImageService().Get(r.ctx(ctx), named)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, wrap(err)
}
