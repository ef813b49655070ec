// Package manifest turns a directory of Kubernetes Pod manifests into the
// complete desired set of pods for one host.
//
// Decode reads one file's bytes: it splits YAML documents, decodes each one
// strictly into a core/v1 Pod (unknown fields, wrong types and bad
// quantities are errors that name the field path), applies the kubelet's
// defaults, validates what matters on one host, refuses what cannot be
// honoured without an API server, and hashes the result.
//
// A Source watches a directory (inotify plus a periodic rescan) and sends a
// State, the whole desired set, after every change, like the kubelet's file
// source (pkg/kubelet/config/file.go). A file that turns bad keeps its last
// good pods and is reported in State.HeldFiles, so a typo never stops a
// running pod; only deleting a file removes its pods.
package manifest
