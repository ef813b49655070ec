package manifest

import (
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Pod is one valid pod from one manifest file.
type Pod struct {
	Pod  *v1.Pod // defaulted and validated; Pod.UID set
	File string  // absolute path of the file it came from
	// Hash is 32 hex characters: a hash of the defaulted pod (canonical
	// JSON), the file path and the node name. The same content, path and
	// node give the same hash across daemon restarts.
	Hash string
	// KeepOnly: the pod is kept if it is there, never started (a pod the
	// API server shows ended: the kubelet keeps its containers' status
	// and logs until it is deleted, and never runs it again).
	KeepOnly bool
}

// FileError is the problem of one manifest file.
type FileError struct {
	File string
	Err  error
}

// Error returns "<file>: <problem>".
func (e FileError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap returns the underlying problem.
func (e FileError) Unwrap() error { return e.Err }

// State is the complete desired set at one moment. Its pods are shared with
// no one: the receiver may keep them, but must treat them as read-only if it
// passes them on.
type State struct {
	Pods []Pod // sorted by namespace/name
	// Objects are the ConfigMaps, Secrets and PersistentVolumeClaims,
	// sorted by Key.
	Objects []Object
	// Workloads are the Deployments, ReplicaSets and Jobs, sorted by Key.
	Workloads []Workload
	Errors    []FileError // current problem of each bad file, sorted by file
	// HeldFiles are files that exist but cannot be used now (invalid,
	// unreadable, too big, refused, in conflict). The consumer must not stop
	// pods that came from these files (Pod.File), so a file that turns bad
	// never harms a running pod, also after a daemon restart when no
	// last-good version is in memory. Sorted. An entry ending in "/"
	// holds every file below it: the whole directory, when it cannot be
	// read (missing, unreadable), so that no pod is stopped for it.
	HeldFiles []string
}

// Holds reports whether HeldFiles holds file.
func (s State) Holds(file string) bool {
	for _, h := range s.HeldFiles {
		if h == file || (strings.HasSuffix(h, "/") && strings.HasPrefix(file, h)) {
			return true
		}
	}
	return false
}

// Options tune Decode and Source.
type Options struct {
	// NodeName is written to spec.nodeName and goes into the hash.
	NodeName string
	// FollowSymlinks follows every symlink. When false, a symlink whose
	// target is outside the directory is refused.
	FollowSymlinks bool
	// StrictPerms refuses files (and the directory) writable by group or
	// others or not owned by root, like sshd's StrictModes.
	StrictPerms bool
	// RescanInterval is the period of the full rescan that backs up
	// inotify; 20s when zero.
	RescanInterval time.Duration
}

// DefaultRescanInterval is the rescan period when Options.RescanInterval is
// zero.
const DefaultRescanInterval = 20 * time.Second

// MaxFileSize is the largest manifest file accepted.
const MaxFileSize = 1 << 20

func (o Options) rescanInterval() time.Duration {
	if o.RescanInterval <= 0 {
		return DefaultRescanInterval
	}
	return o.RescanInterval
}
