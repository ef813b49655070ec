package ociarchive_test

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/platforms"

	"github.com/minilet/minilet/pkg/ociarchive"
)

// TestContainerdImportsArchive feeds a busybox archive to the importer that
// containerd's client.Import uses, with a content store in a temporary
// directory (no daemon), and resolves it the way containerd does: index ->
// manifest for the default platform -> config and layer.
func TestContainerdImportsArchive(t *testing.T) {
	bin, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	files, err := ociarchive.BusyboxFiles(bin, nil)
	if err != nil {
		t.Fatalf("BusyboxFiles: %v", err)
	}
	const ref = "localhost/minilet/busybox:test"
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, ref, files, ociarchive.Config{Cmd: []string{"sh"}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	t.Logf("busybox archive: %d bytes", buf.Len())

	ctx := context.Background()
	store, err := local.NewStore(t.TempDir())
	if err != nil {
		t.Fatalf("content store: %v", err)
	}
	indexDesc, err := archive.ImportIndex(ctx, store, &buf)
	if err != nil {
		t.Fatalf("ImportIndex: %v", err)
	}
	idx, err := images.Children(ctx, store, indexDesc)
	if err != nil {
		t.Fatalf("index children: %v", err)
	}
	if len(idx) != 1 || idx[0].Annotations[images.AnnotationImageName] != ref {
		t.Fatalf("imported index lists %+v, want one manifest named %s", idx, ref)
	}
	img := images.Image{Name: ref, Target: idx[0]}
	manifest, err := images.Manifest(ctx, store, img.Target, platforms.Default())
	if err != nil {
		t.Fatalf("resolve manifest for %s: %v", platforms.DefaultString(), err)
	}
	diffIDs, err := img.RootFS(ctx, store, platforms.Default())
	if err != nil {
		t.Fatalf("rootfs: %v", err)
	}
	if len(diffIDs) != 1 || len(manifest.Layers) != 1 {
		t.Fatalf("diff IDs %v, layers %v", diffIDs, manifest.Layers)
	}
	available, required, present, missing, err := images.Check(ctx, store, idx[0], platforms.Default())
	if err != nil || !available || len(missing) != 0 || len(present) != len(required) {
		t.Fatalf("images.Check: available=%v required=%d present=%d missing=%v err=%v",
			available, len(required), len(present), missing, err)
	}
}
