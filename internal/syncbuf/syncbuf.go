// Package syncbuf is a bytes.Buffer that a test reads while something else
// writes to it (a command's output, a daemon's log).
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
