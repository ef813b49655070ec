package containerlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// maxPendingLine bounds the text of one unfinished line held back while
// its stream waits for the end of the line; beyond it the text is written
// as it comes.
const maxPendingLine = 1 << 20

// renderer turns records into plain text. Each stream has its own line
// in the making, so that the pieces of a long stdout line are not mixed
// with a stderr line written meanwhile.
type renderer struct {
	w       *bufio.Writer
	opts    Options
	streams [numStreams]lineState
	seq     int64
}

// lineState is the line a stream is in the middle of.
type lineState struct {
	inLine  bool   // a piece has been seen, not the end
	skip    bool   // the line is left out
	buf     []byte // its text not yet written
	spilled bool   // some of its text was written already
	seq     int64  // when it started, to write unfinished lines in order
}

func newRenderer(w io.Writer, opts Options) *renderer {
	return &renderer{w: bufio.NewWriterSize(w, 32<<10), opts: opts}
}

// drain renders the complete lines lr has, and returns how many it read.
// It returns nil at the end of the file.
func (c *renderer) drain(lr *lineReader) (int, error) {
	n := 0
	for {
		line, _, err := lr.next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read container log: %w", err)
		}
		n++
		if err := c.line(line); err != nil {
			return n, err
		}
	}
}

// rest renders the last line of a complete file when it has no newline.
func (c *renderer) rest(lr *lineReader) error {
	if line, _ := lr.rest(); line != nil {
		return c.line(line)
	}
	return nil
}

// line renders one line of a log file; lines that are not records are
// skipped, as the kubelet does.
func (c *renderer) line(line []byte) error {
	rec, err := parseRecord(line)
	if err != nil || !c.opts.wants(rec) {
		return nil
	}
	return c.record(rec)
}

func (c *renderer) record(rec record) error {
	s := &c.streams[rec.stream]
	if !s.inLine {
		c.seq++
		*s = lineState{inLine: true, buf: s.buf[:0], seq: c.seq}
		s.skip = !c.opts.Since.IsZero() && rec.ts.Before(c.opts.Since)
		if !s.skip && c.opts.Timestamps {
			s.buf = rec.ts.AppendFormat(s.buf, time.RFC3339Nano)
			s.buf = append(s.buf, ' ')
		}
	}
	if !s.skip {
		s.buf = append(s.buf, rec.text...)
	}
	if rec.partial {
		if len(s.buf) > maxPendingLine {
			s.spilled = true
			return c.write(s)
		}
		return nil
	}
	if !s.skip {
		s.buf = append(s.buf, '\n')
	}
	s.inLine = false
	return c.write(s)
}

// write writes the held-back text of s.
func (c *renderer) write(s *lineState) error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// flush writes out what is buffered.
func (c *renderer) flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// finish writes the unfinished lines of a complete log, without a
// newline, in the order they started, and flushes.
func (c *renderer) finish() error {
	open := make([]*lineState, 0, numStreams)
	for i := range c.streams {
		if s := &c.streams[i]; s.inLine && !s.skip {
			open = append(open, s)
		}
	}
	slices.SortFunc(open, func(a, b *lineState) int { return int(a.seq - b.seq) })
	for _, s := range open {
		if err := c.write(s); err != nil {
			return err
		}
		s.inLine = false
	}
	return c.flush()
}
