package ociarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	_ "crypto/sha256" // registers SHA-256 for go-digest
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
)

// epoch is the modification time of every entry, so that the same files
// always give the same layer digest.
var epoch = time.Unix(0, 0).UTC()

// layer is a gzip-compressed layer blob and the digest of its uncompressed
// tar (the diff ID that the image config lists).
type layer struct {
	blob   []byte
	diffID digest.Digest
}

// buildLayer writes entries into a tar, gzips it and digests both forms.
func buildLayer(ents []entry) (layer, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return layer{}, fmt.Errorf("gzip writer: %w", err)
	}
	diff := digest.SHA256.Digester()
	tw := tar.NewWriter(io.MultiWriter(zw, diff.Hash()))
	for _, e := range ents {
		if err := writeEntry(tw, e); err != nil {
			return layer{}, fmt.Errorf("layer entry %q: %w", e.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return layer{}, fmt.Errorf("close layer tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return layer{}, fmt.Errorf("close layer gzip: %w", err)
	}
	return layer{blob: gz.Bytes(), diffID: diff.Digest()}, nil
}

func writeEntry(tw *tar.Writer, e entry) error {
	hdr := &tar.Header{
		Name:    e.name,
		Mode:    tarMode(e.Mode),
		ModTime: epoch,
		Format:  tar.FormatPAX,
	}
	switch {
	case e.Dir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case e.Link != "":
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = e.Link
	default:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(e.Data))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if hdr.Typeflag == tar.TypeReg {
		if _, err := tw.Write(e.Data); err != nil {
			return fmt.Errorf("write data: %w", err)
		}
	}
	return nil
}

// tarMode converts Go's mode bits to the tar header's Unix ones.
func tarMode(m os.FileMode) int64 {
	mode := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
