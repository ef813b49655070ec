package ociarchive

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"unicode"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationImageName is the index.json annotation containerd's importer
// reads the full image name from.
const AnnotationImageName = "io.containerd.image.name"

// Config is the runtime part of the image config.
type Config struct {
	Entrypoint []string
	Cmd        []string
	Env        []string // "KEY=value"
	WorkingDir string
	User       string
	StopSignal string
	Labels     map[string]string
}

// blob is one file under blobs/sha256/.
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

func newBlob(mediaType string, data []byte) blob {
	return blob{
		desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))},
		data: data,
	}
}

func jsonBlob(mediaType string, v any) (blob, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return blob{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	return newBlob(mediaType, data), nil
}

// Write writes an OCI image layout tar archive to w holding one image named
// ref (a full reference such as "localhost/minilet/pause:3.10") for
// linux/GOARCH, whose single gzip layer holds files and whose config holds
// cfg. Parent directories missing from files are added with mode 0755.
func Write(w io.Writer, ref string, files []File, cfg Config) error {
	tag, err := refTag(ref)
	if err != nil {
		return err
	}
	ents, err := entries(files)
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	l, err := buildLayer(ents)
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	layerBlob := newBlob(ocispec.MediaTypeImageLayerGzip, l.blob)

	platform := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	configBlob, err := jsonBlob(ocispec.MediaTypeImageConfig, ocispec.Image{
		Platform: platform,
		Config: ocispec.ImageConfig{
			Entrypoint: cfg.Entrypoint,
			Cmd:        cfg.Cmd,
			Env:        cfg.Env,
			WorkingDir: cfg.WorkingDir,
			User:       cfg.User,
			StopSignal: cfg.StopSignal,
			Labels:     cfg.Labels,
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{l.diffID}},
	})
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	manifestBlob, err := jsonBlob(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configBlob.desc,
		Layers:    []ocispec.Descriptor{layerBlob.desc},
	})
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	manifestDesc := manifestBlob.desc
	manifestDesc.Platform = &platform
	manifestDesc.Annotations = map[string]string{
		AnnotationImageName:       ref,
		ocispec.AnnotationRefName: tag,
	}
	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{manifestDesc},
	})
	if err != nil {
		return fmt.Errorf("image %q: encode index: %w", ref, err)
	}
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return fmt.Errorf("image %q: encode oci-layout: %w", ref, err)
	}

	if err := writeLayout(w, layout, index, []blob{configBlob, manifestBlob, layerBlob}); err != nil {
		return fmt.Errorf("write archive of image %q: %w", ref, err)
	}
	return nil
}

// writeLayout writes the image layout tar: oci-layout, index.json, then the
// blobs in digest order.
func writeLayout(w io.Writer, layout, index []byte, blobs []blob) error {
	tw := tar.NewWriter(w)
	file := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	dir := func(name string) error {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := file(ocispec.ImageLayoutFile, layout); err != nil {
		return err
	}
	if err := file("index.json", index); err != nil {
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return err
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].desc.Digest < blobs[j].desc.Digest })
	for i, b := range blobs {
		if i > 0 && b.desc.Digest == blobs[i-1].desc.Digest {
			continue
		}
		if err := file("blobs/sha256/"+b.desc.Digest.Encoded(), b.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	return nil
}

// refTag returns the tag of a full reference ("latest" when it has none),
// for the org.opencontainers.image.ref.name annotation. It rejects refs that
// are empty, hold spaces or are pinned by digest (an archive cannot hold a
// manifest whose digest the caller chose).
func refTag(ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("image reference is empty")
	}
	if strings.IndexFunc(ref, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("image reference %q holds white space", ref)
	}
	if strings.Contains(ref, "@") {
		return "", fmt.Errorf("image reference %q is pinned by digest; give a tag", ref)
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		if i == len(name)-1 {
			return "", fmt.Errorf("image reference %q has an empty tag", ref)
		}
		return name[i+1:], nil
	}
	return "latest", nil
}
