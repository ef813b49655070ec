package ociarchive_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minilet/minilet/pkg/ociarchive"
)

// tarEntry is one entry read back from a tar stream.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, r io.Reader) (map[string]tarEntry, []string) {
	t.Helper()
	tr := tar.NewReader(r)
	out := map[string]tarEntry{}
	var order []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, order
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read tar entry %s: %v", hdr.Name, err)
		}
		if _, dup := out[hdr.Name]; dup {
			t.Fatalf("tar entry %s appears twice", hdr.Name)
		}
		out[hdr.Name] = tarEntry{hdr: hdr, data: data}
		order = append(order, hdr.Name)
	}
}

// blobOf returns the blob desc points at, checking that its name, size and
// content digest agree with the descriptor.
func blobOf(t *testing.T, archive map[string]tarEntry, desc ocispec.Descriptor) []byte {
	t.Helper()
	if desc.Digest.Algorithm() != digest.SHA256 {
		t.Fatalf("descriptor %v: algorithm %s, want sha256", desc.Digest, desc.Digest.Algorithm())
	}
	e, ok := archive["blobs/sha256/"+desc.Digest.Encoded()]
	if !ok {
		t.Fatalf("blob %s (%s) missing from the archive", desc.Digest, desc.MediaType)
	}
	if got := digest.FromBytes(e.data); got != desc.Digest {
		t.Fatalf("blob %s holds content with digest %s", desc.Digest, got)
	}
	if int64(len(e.data)) != desc.Size {
		t.Fatalf("blob %s: size %d, descriptor says %d", desc.Digest, len(e.data), desc.Size)
	}
	return e.data
}

func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, data)
	}
}

// image is an archive read back and checked from index to layer.
type image struct {
	index    ocispec.Index
	manifest ocispec.Manifest
	config   ocispec.Image
	layer    map[string]tarEntry
	order    []string
}

func readImage(t *testing.T, archive []byte) image {
	t.Helper()
	files, _ := readTar(t, bytes.NewReader(archive))
	var img image

	var layout ocispec.ImageLayout
	decode(t, files["oci-layout"].data, &layout)
	if layout.Version != ocispec.ImageLayoutVersion {
		t.Fatalf("oci-layout version %q", layout.Version)
	}
	decode(t, files["index.json"].data, &img.index)
	if img.index.SchemaVersion != 2 || img.index.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("index.json: schema %d media type %q", img.index.SchemaVersion, img.index.MediaType)
	}
	if len(img.index.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(img.index.Manifests))
	}
	md := img.index.Manifests[0]
	if md.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("manifest media type %q", md.MediaType)
	}
	decode(t, blobOf(t, files, md), &img.manifest)
	if img.manifest.SchemaVersion != 2 || len(img.manifest.Layers) != 1 {
		t.Fatalf("manifest: schema %d, %d layers", img.manifest.SchemaVersion, len(img.manifest.Layers))
	}
	if img.manifest.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Fatalf("config media type %q", img.manifest.Config.MediaType)
	}
	decode(t, blobOf(t, files, img.manifest.Config), &img.config)

	ld := img.manifest.Layers[0]
	if ld.MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Fatalf("layer media type %q", ld.MediaType)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blobOf(t, files, ld)))
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip layer: %v", err)
	}
	if got := img.config.RootFS.DiffIDs; len(got) != 1 || got[0] != digest.FromBytes(raw) {
		t.Fatalf("config diff_ids %v, uncompressed layer digest %s", got, digest.FromBytes(raw))
	}
	if img.config.RootFS.Type != "layers" {
		t.Fatalf("rootfs type %q", img.config.RootFS.Type)
	}
	img.layer, img.order = readTar(t, bytes.NewReader(raw))
	return img
}

func TestWriteLayoutAndLayer(t *testing.T) {
	const ref = "localhost/minilet/pause:0.1.0"
	files := []ociarchive.File{
		{Path: "/pause", Mode: 0o755, Data: []byte("\x7fELF not really")},
		{Path: "/usr/local/bin/tool", Data: []byte("hello")},
		{Path: "usr/local/bin/alias", Link: "tool"},
		{Path: "/var/run/app", Dir: true, Mode: 0o700},
		{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
	}
	cfg := ociarchive.Config{
		Entrypoint: []string{"/pause"},
		Cmd:        []string{"-x"},
		Env:        []string{"PATH=/usr/local/bin:/bin"},
		WorkingDir: "/",
		User:       "65535:65535",
		StopSignal: "SIGINT",
		Labels:     map[string]string{"io.minilet.image": "pause"},
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, ref, files, cfg); err != nil {
		t.Fatalf("Write: %v", err)
	}
	img := readImage(t, buf.Bytes())

	md := img.index.Manifests[0]
	if got := md.Annotations["io.containerd.image.name"]; got != ref {
		t.Errorf("io.containerd.image.name = %q, want %q", got, ref)
	}
	if got := md.Annotations[ocispec.AnnotationRefName]; got != "0.1.0" {
		t.Errorf("%s = %q, want the tag 0.1.0", ocispec.AnnotationRefName, got)
	}
	if md.Platform == nil || md.Platform.OS != "linux" || md.Platform.Architecture != runtime.GOARCH {
		t.Errorf("manifest platform %+v, want linux/%s", md.Platform, runtime.GOARCH)
	}
	if img.config.OS != "linux" || img.config.Architecture != runtime.GOARCH {
		t.Errorf("config platform %s/%s", img.config.OS, img.config.Architecture)
	}
	c := img.config.Config
	if strings.Join(c.Entrypoint, " ") != "/pause" || strings.Join(c.Cmd, " ") != "-x" ||
		strings.Join(c.Env, " ") != "PATH=/usr/local/bin:/bin" || c.WorkingDir != "/" ||
		c.User != "65535:65535" || c.StopSignal != "SIGINT" || c.Labels["io.minilet.image"] != "pause" {
		t.Errorf("image config %+v does not match %+v", c, cfg)
	}

	type want struct {
		typ  byte
		mode int64
		data string
		link string
	}
	wants := map[string]want{
		"pause":               {tar.TypeReg, 0o755, "\x7fELF not really", ""},
		"usr/":                {tar.TypeDir, 0o755, "", ""},
		"usr/local/":          {tar.TypeDir, 0o755, "", ""},
		"usr/local/bin/":      {tar.TypeDir, 0o755, "", ""},
		"usr/local/bin/tool":  {tar.TypeReg, 0o644, "hello", ""},
		"usr/local/bin/alias": {tar.TypeSymlink, 0o644, "", "tool"},
		"var/":                {tar.TypeDir, 0o755, "", ""},
		"var/run/":            {tar.TypeDir, 0o755, "", ""},
		"var/run/app/":        {tar.TypeDir, 0o700, "", ""},
		"tmp/":                {tar.TypeDir, 0o1777, "", ""},
	}
	if len(img.layer) != len(wants) {
		t.Errorf("layer has %d entries %v, want %d", len(img.layer), img.order, len(wants))
	}
	for name, w := range wants {
		e, ok := img.layer[name]
		if !ok {
			t.Errorf("layer lacks %s (has %v)", name, img.order)
			continue
		}
		if e.hdr.Typeflag != w.typ || e.hdr.Mode != w.mode || string(e.data) != w.data || e.hdr.Linkname != w.link {
			t.Errorf("%s: type %c mode %o data %q link %q; want type %c mode %o data %q link %q",
				name, e.hdr.Typeflag, e.hdr.Mode, e.data, e.hdr.Linkname, w.typ, w.mode, w.data, w.link)
		}
		if e.hdr.Uid != 0 || e.hdr.Gid != 0 {
			t.Errorf("%s: owned by %d:%d, want 0:0", name, e.hdr.Uid, e.hdr.Gid)
		}
	}
	// Parents come before their children.
	pos := map[string]int{}
	for i, n := range img.order {
		pos[strings.TrimSuffix(n, "/")] = i
	}
	for n, i := range pos {
		if d := filepath.Dir(n); d != "." && pos[d] > i {
			t.Errorf("%s comes before its parent %s", n, d)
		}
	}

	// The same input gives the same archive, byte for byte.
	var again bytes.Buffer
	if err := ociarchive.Write(&again, ref, files, cfg); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("two Writes of the same image differ")
	}
}

func TestWriteTagDefaultsToLatest(t *testing.T) {
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, "localhost:5000/busybox", []ociarchive.File{{Path: "/a", Data: []byte("a")}}, ociarchive.Config{}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readImage(t, buf.Bytes()).index.Manifests[0]
	if got := md.Annotations[ocispec.AnnotationRefName]; got != "latest" {
		t.Errorf("ref.name = %q, want latest (the registry port is not a tag)", got)
	}
	if got := md.Annotations["io.containerd.image.name"]; got != "localhost:5000/busybox" {
		t.Errorf("image name = %q", got)
	}
}

func TestWriteRejects(t *testing.T) {
	file := []ociarchive.File{{Path: "/a", Data: []byte("a")}}
	cases := []struct {
		name  string
		ref   string
		files []ociarchive.File
	}{
		{"empty ref", "", file},
		{"ref with space", "localhost/a b:1", file},
		{"ref pinned by digest", "localhost/a@sha256:" + strings.Repeat("0", 64), file},
		{"empty tag", "localhost/a:", file},
		{"empty path", "localhost/a:1", []ociarchive.File{{Path: ""}}},
		{"root path", "localhost/a:1", []ociarchive.File{{Path: "/", Dir: true}}},
		{"dot dot", "localhost/a:1", []ociarchive.File{{Path: "/a/../../etc/passwd", Data: []byte("x")}}},
		{"duplicate", "localhost/a:1", []ociarchive.File{{Path: "/a"}, {Path: "a/"}}},
		{"file as parent", "localhost/a:1", []ociarchive.File{{Path: "/a", Data: []byte("x")}, {Path: "/a/b"}}},
		{"dir with data", "localhost/a:1", []ociarchive.File{{Path: "/a", Dir: true, Data: []byte("x")}}},
		{"symlink with data", "localhost/a:1", []ociarchive.File{{Path: "/a", Link: "b", Data: []byte("x")}}},
		{"type bits in mode", "localhost/a:1", []ociarchive.File{{Path: "/a", Mode: os.ModeSymlink | 0o777}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := ociarchive.Write(io.Discard, tc.ref, tc.files, ociarchive.Config{}); err == nil {
				t.Fatalf("Write(%q, %+v) succeeded, want an error", tc.ref, tc.files)
			}
		})
	}
}
