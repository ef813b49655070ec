package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
)

// settler makes every timed run start from a quiet machine. containerd
// removes the snapshots of deleted containers in a garbage collection after
// the deletion returns; a run started right after a teardown pays for it,
// and whichever side comes second looks up to 1.65× slower. settle waits
// until the snapshot directories on disk are only those containerd still
// knows, then a fixed pause for the rest (page cache writeback, the shims'
// exits, CNI's leftovers).
type settler struct {
	client  *containerd.Client
	snapDir string // overlayfs snapshots directory under containerd's root
	pause   time.Duration
	// extra is how many directories more than snapshots there were at
	// the first settle, before any pod ran (containerd keeps a few of its
	// own, e.g. an unpack's leftovers).
	extra int
	based bool
}

func newSettler(address, root string, pause time.Duration) (*settler, error) {
	c, err := containerd.New(address)
	if err != nil {
		return nil, err
	}
	return &settler{client: c, snapDir: filepath.Join(root, "io.containerd.snapshotter.v1.overlayfs", "snapshots"), pause: pause}, nil
}

// settle waits for containerd's garbage collection to finish (the
// snapshot directories on disk are at most as many more than the
// snapshots containerd knows as before any pod ran, or their count has not
// changed for a second: containerd may keep a few until its next
// collection), then pauses.
func (s *settler) settle(ctx context.Context) error {
	if s == nil {
		return nil
	}
	deadline := time.Now().Add(60 * time.Second)
	last, since := -1, time.Now()
	for {
		known, err := s.knownSnapshots(ctx)
		if err != nil {
			return err
		}
		ents, err := os.ReadDir(s.snapDir)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if !s.based {
			s.extra, s.based = len(ents)-known, true
		}
		if len(ents)-known <= s.extra {
			break
		}
		if len(ents) != last {
			last, since = len(ents), time.Now()
		} else if time.Since(since) >= time.Second {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd still removes snapshot directories after 60 s (%d for %d snapshots)", len(ents), known)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return sleep(ctx, s.pause)
}

// knownSnapshots counts the snapshots containerd's metadata holds in every
// namespace.
func (s *settler) knownSnapshots(ctx context.Context) (int, error) {
	nss, err := s.client.NamespaceService().List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		err := s.client.SnapshotService("overlayfs").Walk(nctx, func(context.Context, snapshots.Info) error {
			n++
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (s *settler) close() {
	if s != nil {
		s.client.Close()
	}
}
