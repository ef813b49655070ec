package containerlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// follow renders what is added to the current file (r.files[cur], read by
// lr) until Done reports the log complete or ctx ends. When another file
// takes the place of the current one (a rotation), the old one is read to
// its end, then any rotated file after it, then the new one.
//
// Done is believed after one more poll that finds nothing new, so that the
// last lines the log driver writes after the container stopped are not
// lost.
func (r *Reader) follow(ctx context.Context, c *renderer, cur int, lr *lineReader) error {
	timer := time.NewTimer(r.opts.PollInterval)
	defer timer.Stop()
	done := false
	for {
		n, err := c.drain(lr)
		if err != nil {
			return err
		}
		if !sameFile(r.path, r.files[cur].fi) {
			// The file is complete: read what was written before it was
			// renamed, then move on to its successor, if there is one yet.
			m, err := c.drain(lr)
			if err != nil {
				return err
			}
			n += m
			next, err := r.nextFile(r.files[cur])
			if err != nil {
				return err
			}
			if next != nil {
				if err := c.rest(lr); err != nil {
					return err
				}
				r.files[cur].f.Close()
				r.files[cur] = nil
				r.files = append(r.files, next)
				cur = len(r.files) - 1
				if lr, err = newLineReader(next.f, 0); err != nil {
					return err
				}
				continue
			}
		}
		if err := c.flush(); err != nil {
			return err
		}
		if r.opts.Done != nil {
			if done && n == 0 {
				if err := c.rest(lr); err != nil {
					return err
				}
				return c.finish()
			}
			done = done || r.opts.Done()
		}
		timer.Reset(r.opts.PollInterval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// nextFile opens the file that follows cur, which is no longer at the
// log's path: the oldest rotated file newer than cur, else the file at
// the path. It returns nil when there is none yet (the writer has renamed
// the old file but not made the new one).
func (r *Reader) nextFile(cur *logFileReader) (*logFileReader, error) {
	rotated, err := listRotated(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// cur is among the rotated files, unless it was removed; then it was
	// older than every one left.
	after := rotated
	for i, rf := range rotated {
		if sameFile(rf.path, cur.fi) {
			after = rotated[i+1:]
			break
		}
	}
	for _, rf := range after {
		f, err := openForRead(rf.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open rotated container log: %w", err)
		}
		return f, nil
	}
	f, err := openForRead(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	if os.SameFile(f.fi, cur.fi) {
		f.f.Close()
		return nil, nil
	}
	return f, nil
}
