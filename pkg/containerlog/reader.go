package containerlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// DefaultPollInterval is how often a following Reader looks for new lines.
const DefaultPollInterval = 100 * time.Millisecond

// Options select what a Reader gives back, as the Kubernetes log API's
// PodLogOptions.
type Options struct {
	// Tail keeps the last Tail lines; a negative Tail keeps all (kubectl's
	// --tail=-1) and 0 none (useful with Follow).
	Tail int
	// Since leaves out lines timestamped before it; zero keeps all.
	Since time.Time
	// Timestamps starts each line with its RFC3339Nano timestamp and a
	// space, like kubectl logs --timestamps.
	Timestamps bool
	// Follow keeps reading as the file grows, and across rotations, until
	// the context ends or Done reports the log complete.
	Follow bool
	// Done, with Follow, reports that no more lines will come (the
	// container has stopped): the Reader reads what is left and returns.
	// nil follows until the context ends.
	Done func() bool
	// Stream keeps the lines of one stream (Stdout or Stderr); empty
	// keeps both. Tail counts the lines of both.
	Stream Stream
	// PollInterval is how often a following Reader checks the file; 0
	// means DefaultPollInterval.
	PollInterval time.Duration
}

func (o Options) wants(rec record) bool {
	switch o.Stream {
	case Stdout:
		return rec.stream == streamStdout
	case Stderr:
		return rec.stream == streamStderr
	}
	return true
}

// Reader reads one container log: its rotated files, oldest first, then
// the current one. Open it, Copy it once, and Close it.
type Reader struct {
	path  string
	opts  Options
	files []*logFileReader // oldest first; the last one was at path when opened
	start position         // where the output starts
}

// position is a place in the Reader's files, and which streams are in
// the middle of a line there.
type position struct {
	file   int
	offset int64
	mid    [numStreams]bool
}

// Open opens the log at path and its rotated files, and finds where the
// lines asked for start. A missing log is an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func Open(path string, opts Options) (*Reader, error) {
	r := &Reader{path: path, opts: opts}
	if r.opts.PollInterval <= 0 {
		r.opts.PollInterval = DefaultPollInterval
	}
	if err := r.openFiles(); err != nil {
		return nil, err
	}
	if opts.Tail >= 0 {
		if err := r.findTail(opts.Tail); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Close closes the files of the Reader.
func (r *Reader) Close() error {
	var errs []error
	for i, f := range r.files {
		if f != nil {
			errs = append(errs, f.f.Close())
			r.files[i] = nil
		}
	}
	return errors.Join(errs...)
}

// openFiles opens the current file and the rotated ones. When a rotation
// happens meanwhile, it starts again, so that no file is missed.
func (r *Reader) openFiles() error {
	for attempt := 0; ; attempt++ {
		cur, err := openForRead(r.path)
		if err != nil {
			return fmt.Errorf("open container log: %w", err)
		}
		r.files = r.files[:0]
		rotated, err := listRotated(r.path)
		if err != nil {
			cur.f.Close()
			return err
		}
		for _, rf := range rotated {
			f, err := openForRead(rf.path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by a rotation meanwhile
			}
			if err != nil {
				cur.f.Close()
				r.Close()
				return fmt.Errorf("open rotated container log: %w", err)
			}
			r.files = append(r.files, f)
		}
		r.files = append(r.files, cur)
		if sameFile(r.path, cur.fi) || attempt >= 2 {
			return nil
		}
		r.Close()
	}
}

// findTail sets the start at the n-th last line, counting lines where
// they start and leaving out those before Since. A stream in the middle of
// a line there has that line left out.
func (r *Reader) findTail(n int) error {
	ring := make([]position, n) // the last n line starts
	count := 0
	var mid [numStreams]bool
	var end position
	last := len(r.files) - 1
	for i, f := range r.files {
		lr, err := newLineReader(f.f, 0)
		if err != nil {
			return err
		}
		for {
			line, start, err := lr.next()
			if errors.Is(err, io.EOF) && i < last {
				line, start = lr.rest()
				if line == nil {
					break
				}
			} else if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("read %s: %w", f.f.Name(), err)
			}
			rec, err := parseRecord(line)
			if err != nil {
				continue
			}
			if !mid[rec.stream] && n > 0 && (r.opts.Since.IsZero() || !rec.ts.Before(r.opts.Since)) {
				ring[count%n] = position{file: i, offset: start, mid: mid}
				count++
			}
			mid[rec.stream] = rec.partial
		}
		end = position{file: i, offset: lr.off, mid: mid}
	}
	switch {
	case n == 0:
		r.start = end
	case count < n:
		r.start = position{}
	default:
		r.start = ring[count%n]
	}
	return nil
}

// Copy writes the log as plain text to w: lines in the order they ended,
// pieces joined. With Follow it then waits for more, and returns nil when
// Done reports the log complete, or the context's error when it ends.
func (r *Reader) Copy(ctx context.Context, w io.Writer) error {
	c := newRenderer(w, r.opts)
	for s, m := range r.start.mid {
		if m {
			c.streams[s].inLine, c.streams[s].skip = true, true
		}
	}
	last := len(r.files) - 1
	for i := r.start.file; i <= last; i++ {
		off := int64(0)
		if i == r.start.file {
			off = r.start.offset
		}
		lr, err := newLineReader(r.files[i].f, off)
		if err != nil {
			return err
		}
		if _, err := c.drain(lr); err != nil {
			return err
		}
		if i == last && r.opts.Follow {
			return r.follow(ctx, c, i, lr)
		}
		if err := c.rest(lr); err != nil {
			return err
		}
		r.files[i].f.Close()
		r.files[i] = nil
	}
	return c.finish()
}
