package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CordonStore keeps the node's cordon state in a small JSON file, so that
// a cordoned node stays cordoned across a daemon restart. The file also
// records when minilet first ran on the host: the node's creation time.
// It is safe for concurrent use.
type CordonStore struct {
	path string

	mu    sync.Mutex
	state cordonState
}

// cordonState is the file's content.
type cordonState struct {
	Cordoned bool      `json:"cordoned"`
	Created  time.Time `json:"created"`
	// Changed is when Cordoned last changed, for the operator reading
	// the file.
	Changed time.Time `json:"changed,omitzero"`
}

// OpenCordonStore reads the state at path. A missing file is a new,
// uncordoned node: the file is written then, with the creation time.
// A file that does not parse is an error, not a silent uncordon.
func OpenCordonStore(path string) (*CordonStore, error) {
	s := &CordonStore{path: path}
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
func (s *CordonStore) Cordoned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Cordoned
}

// Created is when the store was first made: when minilet first ran here.
func (s *CordonStore) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Created
}

// Set records the cordon state; it is on disk when Set returns. Setting
// the current state again writes nothing.
func (s *CordonStore) Set(cordoned bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Cordoned == cordoned {
		return nil
	}
	next := s.state
	next.Cordoned = cordoned
	next.Changed = time.Now().UTC().Truncate(time.Second)
	if err := s.write(next); err != nil {
		return err
	}
	s.state = next
	return nil
}

// write replaces the file atomically: a temporary file in the same
// directory, synced, renamed over the old one, and the directory synced,
// so that a crash leaves the old state or the new one, never a torn file.
func (s *CordonStore) write(st cordonState) (err error) {
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
