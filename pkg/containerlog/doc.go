// Package containerlog writes and reads container logs in the CRI format
// the kubelet and containerd use, so that the files under --pod-log-dir
// look like a kubelet's and tools that read those files work on them.
//
// Every line of a container's stdout or stderr becomes one record:
//
//	<RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>\n
//
// F marks the end of a line. A line longer than the maximum record size
// (16 KiB, containerd's max_container_log_line_size) is cut into pieces
// tagged P followed by a final piece tagged F, and a last line that ends
// without a newline when the stream closes is written as P, all as
// containerd's CRI logger (internal/cri/io/logger.go) does.
//
// The Writer turns two streams into records in one file and rotates it by
// size: <file> is renamed to <file>.<YYYYMMDD-hhmmss.ffffff> (UTC) and
// reopened, and the oldest rotated files beyond MaxFiles-1 are removed.
// It never stops reading its streams: when the file cannot be written (a
// full disk), records are dropped and counted, and the file is tried again
// later. `minilet log-driver` runs a Writer as containerd's shim logging
// binary, so logs keep flowing while the daemon is down.
//
// A Reader gives a container's log back as plain text, as the Kubernetes
// log API does: rotated files first, then the current one; pieces joined
// into lines; optionally the last N lines, lines since a time, with
// timestamps, and following the file as it grows and across rotations.
package containerlog
