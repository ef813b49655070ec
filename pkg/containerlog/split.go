package containerlog

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// readBufferSize is how much of a stream is read at once.
const readBufferSize = 32 << 10

// DefaultPartialFlush is how long text without its newline is held before
// it is written as a partial record.
const DefaultPartialFlush = 100 * time.Millisecond

// splitLines reads r to its end and hands its lines to emit as records,
// as containerd's CRI logger cuts them:
//   - a line ends at "\n"; a "\r\n" ending is dropped whole;
//   - a line longer than maxLen is cut into maxLen-byte pieces tagged
//     partial, and its last piece (even one of exactly maxLen bytes) is
//     full;
//   - an empty line is a full record with no text;
//   - text left without a newline when the stream ends (or fails) is one
//     more partial record.
//
// Unlike containerd, text that has waited flush (> 0) for its newline is
// written as a partial record then, and the rest of its line follows as
// more records: the shim holds a logging binary's pipes open until the
// task is deleted, so a container's last words without a newline (`echo
// -n DONE; false`), or a prompt, would otherwise never reach the log while
// the container is kept. A trailing "\r" stays held, as it may start a
// "\r\n" ending.
//
// maxLen <= 0 means DefaultMaxLineSize. emit must not keep text. The error
// is the stream's read error, nil at EOF.
func splitLines(r io.Reader, maxLen int, flush time.Duration, emit func(partial bool, text []byte)) error {
	if maxLen <= 0 {
		maxLen = DefaultMaxLineSize
	}
	s := &lineSplitter{maxLen: maxLen, emit: emit}
	if flush <= 0 {
		buf := make([]byte, readBufferSize)
		for {
			n, err := r.Read(buf)
			s.feed(buf[:n])
			if err != nil {
				return s.end(err)
			}
		}
	}
	return s.readTimed(r, flush)
}

// chunk is one read of a stream.
type chunk struct {
	b   []byte
	err error
}

// readTimed is splitLines with a flush timer: a goroutine reads, so that
// the timer can fire while a read blocks. It ends with the stream.
func (s *lineSplitter) readTimed(r io.Reader, flush time.Duration) error {
	chunks := make(chan chunk)
	free := make(chan []byte, 2)
	free <- make([]byte, readBufferSize)
	free <- make([]byte, readBufferSize)
	go func() {
		for {
			b := <-free
			n, err := r.Read(b)
			chunks <- chunk{b[:n], err}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(flush)
	timer.Stop()
	defer timer.Stop()
	holding := false
	for {
		select {
		case c := <-chunks:
			ended := s.feed(c.b)
			if c.err != nil {
				return s.end(c.err)
			}
			free <- c.b[:cap(c.b)]
			// The wait starts when text is first held: a line that
			// ended in this read starts it again.
			if holding && (ended || s.held() == 0) {
				timer.Stop()
				holding = false
			}
			if !holding && s.held() > 0 {
				timer.Reset(flush)
				holding = true
			}
		case <-timer.C:
			s.flushHeld()
			holding = false
		}
	}
}

// lineSplitter cuts a stream into records; logdriver.c's feed does the
// same, and the tests hold the two to the same output.
type lineSplitter struct {
	maxLen int
	emit   func(partial bool, text []byte)
	line   []byte // text of the current line, not yet written
}

// held is how much of the current line could be written now: all of it
// but a trailing "\r".
func (s *lineSplitter) held() int {
	if n := len(s.line); n > 0 && s.line[n-1] == '\r' {
		return n - 1
	}
	return len(s.line)
}

// feed adds p to the current line, writing the pieces of a line known to
// be longer than maxLen and every line that ends. It tells whether a line
// ended.
func (s *lineSplitter) feed(p []byte) (ended bool) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		take := p
		if i >= 0 {
			take = p[:i]
		}
		s.line = append(s.line, take...)
		for s.held() > s.maxLen {
			s.emit(true, s.line[:s.maxLen])
			s.line = append(s.line[:0], s.line[s.maxLen:]...)
		}
		if i < 0 {
			return ended
		}
		text := s.line
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		s.emit(false, text)
		s.line = s.line[:0]
		ended = true
		p = p[i+1:]
	}
	return ended
}

// flushHeld writes the line's text so far as a partial record.
func (s *lineSplitter) flushHeld() {
	n := s.held()
	if n == 0 {
		return
	}
	s.emit(true, s.line[:n])
	s.line = append(s.line[:0], s.line[n:]...)
}

// end writes what is left of the line as partial records and returns the
// stream's error, nil at EOF.
func (s *lineSplitter) end(err error) error {
	rest := s.line
	for len(rest) > s.maxLen {
		s.emit(true, rest[:s.maxLen])
		rest = rest[s.maxLen:]
	}
	if len(rest) > 0 {
		s.emit(true, rest)
	}
	s.line = s.line[:0]
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
