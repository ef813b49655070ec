package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
)

// SpecStore keeps what the operator set on the node in a small JSON file
// (node.json), so that it survives a daemon restart: the cordon, labels
// (minilet label node) and taints (minilet taint node). The file also
// records when minilet first ran on the host: the node's creation time.
// It is safe for concurrent use.
type SpecStore struct {
	path string

	mu    sync.Mutex
	state specState
}

// specState is the file's content.
type specState struct {
	Cordoned bool      `json:"cordoned"`
	Created  time.Time `json:"created"`
	// Changed is when the state last changed, for the operator reading
	// the file.
	Changed time.Time `json:"changed,omitzero"`
	// Labels set by the operator over --node-labels: a nil value removes
	// a label of the flag.
	Labels map[string]*string `json:"labels,omitempty"`
	Taints []v1.Taint         `json:"taints,omitempty"`
}

// OpenSpecStore reads the state at path. A missing file is a new,
// uncordoned node: the file is written then, with the creation time.
// A file that does not parse is an error, not a silent uncordon.
func OpenSpecStore(path string) (*SpecStore, error) {
	s := &SpecStore{path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.state.Created = time.Now().UTC().Truncate(time.Second)
		if err := s.write(s.state); err != nil {
			return nil, err
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read node state: %w", err)
	}
	if err := json.Unmarshal(data, &s.state); err != nil {
		return nil, fmt.Errorf("read node state %s: %w", path, err)
	}
	return s, nil
}

// Cordoned tells whether the node is cordoned.
func (s *SpecStore) Cordoned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Cordoned
}

// Created is when the store was first made: when minilet first ran here.
func (s *SpecStore) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Created
}

// Set records the cordon state; it is on disk when Set returns. Setting
// the current state again writes nothing.
func (s *SpecStore) Set(cordoned bool) error {
	return s.update(func(st *specState) { st.Cordoned = cordoned })
}

// Spec is what the operator set (SpecSource).
func (s *SpecStore) Spec() OperatorSpec {
	return OperatorSpec{Cordoned: s.Cordoned(), Labels: s.Labels(), Taints: s.Taints()}
}

// PatchSpec applies a patch of the node (ApplyPatch) and records the
// result (SpecSource).
func (s *SpecStore) PatchSpec(_ context.Context, current v1.Node, flags map[string]string, patch []byte, now time.Time) error {
	spec, err := ApplyPatch(current, flags, patch, now)
	if err != nil {
		return err
	}
	if err := s.SetSpec(spec); err != nil {
		return fmt.Errorf("save the node's labels and taints: %w", err)
	}
	return nil
}

// Labels are the operator's label changes: a nil value removes a label.
func (s *SpecStore) Labels() map[string]*string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.state.Labels)
}

// Taints are the operator's taints.
func (s *SpecStore) Taints() []v1.Taint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.Taints)
}

// SetSpec records the operator's cordon, labels (nil value: removed) and
// taints at once; they are on disk when it returns.
func (s *SpecStore) SetSpec(spec OperatorSpec) error {
	return s.update(func(st *specState) {
		st.Cordoned = spec.Cordoned
		st.Labels = maps.Clone(spec.Labels)
		if len(st.Labels) == 0 {
			st.Labels = nil
		}
		st.Taints = slices.Clone(spec.Taints)
	})
}

// update changes the state through f and writes it, unless f changed
// nothing.
func (s *SpecStore) update(f func(*specState)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.state
	next.Labels = maps.Clone(s.state.Labels)
	next.Taints = slices.Clone(s.state.Taints)
	f(&next)
	if sameSpec(next, s.state) {
		return nil
	}
	next.Changed = time.Now().UTC().Truncate(time.Second)
	if err := s.write(next); err != nil {
		return err
	}
	s.state = next
	return nil
}

func sameSpec(a, b specState) bool {
	if a.Cordoned != b.Cordoned || len(a.Labels) != len(b.Labels) || !slices.EqualFunc(a.Taints, b.Taints, func(x, y v1.Taint) bool { return x.MatchTaint(&y) && x.Value == y.Value }) {
		return false
	}
	for k, v := range a.Labels {
		w, ok := b.Labels[k]
		if !ok || (v == nil) != (w == nil) || (v != nil && *v != *w) {
			return false
		}
	}
	return true
}

// write replaces the file atomically: a temporary file in the same
// directory, synced, renamed over the old one, and the directory synced,
// so that a crash leaves the old state or the new one, never a torn file.
func (s *SpecStore) write(st specState) (err error) {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode node state: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write node state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write node state: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write node state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write node state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write node state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write node state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync node state directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync node state directory: %w", err)
	}
	return nil
}
