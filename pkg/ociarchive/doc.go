// Package ociarchive writes single-layer OCI image layout archives from an
// in-memory list of files.
//
// The archive is a tar stream holding oci-layout, index.json and
// blobs/sha256/<digest> for the image config, the manifest and one gzip
// layer, which is what containerd's client.Import and `ctr images import`
// read. index.json names the image twice: io.containerd.image.name carries
// the full reference (containerd uses it as the image name) and
// org.opencontainers.image.ref.name carries the tag, as containerd's own
// exporter does.
//
// minilet uses it to build its pause image from the pause binary without a
// registry, and tests use BusyboxFiles to build a small busybox image.
// The package does not import containerd.
package ociarchive
