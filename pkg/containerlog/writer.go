package containerlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Defaults of the Writer's rotation, as the kubelet's containerLogMaxSize
// and containerLogMaxFiles.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 5
)

// DefaultRetryInterval is how long a Writer drops records after the file
// failed before it tries the file again.
const DefaultRetryInterval = time.Second

// Config configures a Writer.
type Config struct {
	// Path is the log file. Its directory must exist: the Writer does not
	// make it, so that it never brings back the directory of a removed pod.
	Path string
	// MaxSize rotates the file before a record would make it larger; 0
	// never rotates. A record larger than MaxSize gets a file of its own.
	MaxSize int64
	// MaxFiles is how many files are kept, the current one included: at
	// most MaxFiles-1 rotated ones (none when MaxFiles <= 1).
	MaxFiles int
	// MaxLineSize is the longest text of a record; 0 means
	// DefaultMaxLineSize.
	MaxLineSize int
	// PartialFlush is how long text without its newline waits for it
	// before it is written as a partial record; 0 waits for the newline
	// or the stream's end.
	PartialFlush time.Duration
	// RetryInterval is how long records are dropped after the file could
	// not be opened or written; 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// Now is the clock of timestamps and rotations; nil means time.Now.
	Now func() time.Time

	// openFile opens the log for appending; tests replace it.
	openFile func(path string) (logFile, error)
}

// logFile is what a Writer needs of its open file.
type logFile interface {
	io.Writer
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// logFileMode is the mode of new log files, as containerd makes them.
const logFileMode = 0o640

func openLogFile(path string) (logFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, logFileMode)
}

// Writer writes the records of a container's streams to a log file and
// rotates it. Its methods are safe for concurrent use; records of the two
// streams are written whole, in the order they are timestamped.
type Writer struct {
	cfg Config

	mu       sync.Mutex
	f        logFile // nil while the file is unusable
	size     int64
	retryAt  time.Time // f == nil: when to open the file again
	rotateAt time.Time // a failed rotation is tried again from then on
	partial  bool      // the file ends with a cut record that needs a newline
	buf      []byte
	dropped  uint64
	lastErr  error
	closed   bool
}

// NewWriter returns a Writer of cfg.Path and opens the file. A file that
// cannot be opened is no error: records are dropped until it can be.
func NewWriter(cfg Config) (*Writer, error) {
	switch {
	case cfg.Path == "":
		return nil, errors.New("container log writer: no path")
	case cfg.MaxSize < 0:
		return nil, fmt.Errorf("container log writer: negative max size %d", cfg.MaxSize)
	case cfg.MaxLineSize < 0:
		return nil, fmt.Errorf("container log writer: negative max line size %d", cfg.MaxLineSize)
	}
	if cfg.MaxLineSize == 0 {
		cfg.MaxLineSize = DefaultMaxLineSize
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.openFile == nil {
		cfg.openFile = openLogFile
	}
	w := &Writer{cfg: cfg}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.open(); err != nil {
		w.retryAt = cfg.Now().Add(cfg.RetryInterval)
	}
	return w, nil
}

// Copy writes the records of stdout and stderr until both end, and
// returns their read errors. A nil stream is skipped.
func (w *Writer) Copy(stdout, stderr io.Reader) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []struct {
		name Stream
		r    io.Reader
	}{{Stdout, stdout}, {Stderr, stderr}} {
		if s.r == nil {
			continue
		}
		wg.Go(func() { errs[i] = w.ReadStream(s.name, s.r) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ReadStream writes the records of one stream until it ends, and returns
// its read error (nil at EOF).
func (w *Writer) ReadStream(stream Stream, r io.Reader) error {
	err := splitLines(r, w.cfg.MaxLineSize, w.cfg.PartialFlush, func(partial bool, text []byte) {
		w.WriteRecord(stream, partial, text)
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	return nil
}

// WriteRecord writes one record, timestamped now. When the file cannot
// take it, the record is dropped and counted.
func (w *Writer) WriteRecord(stream Stream, partial bool, text []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped++
		return
	}
	now := w.cfg.Now()
	if w.partial {
		w.buf = append(w.buf[:0], '\n')
	} else {
		w.buf = w.buf[:0]
	}
	w.buf = appendRecord(w.buf, now, stream, partial, text)
	if !w.ready(now) {
		w.dropped++
		return
	}
	w.maybeRotate(now, int64(len(w.buf)))
	if w.f == nil {
		w.dropped++
		return
	}
	if err := w.write(w.buf); err != nil {
		w.fail(now, err)
		w.dropped++
	}
}

// Dropped returns how many records could not be written.
func (w *Writer) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// Err returns the last error met writing, opening or rotating the file,
// or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Close closes the file. Records written after Close are dropped.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", w.cfg.Path, err)
	}
	return nil
}

// ready tells whether the file is open, opening it again once the retry
// time has come.
func (w *Writer) ready(now time.Time) bool {
	if w.f != nil {
		return true
	}
	if now.Before(w.retryAt) {
		return false
	}
	if err := w.open(); err != nil {
		w.retryAt = now.Add(w.cfg.RetryInterval)
		return false
	}
	return true
}

// open opens the file for appending and learns its size.
func (w *Writer) open() error {
	f, err := w.cfg.openFile(w.cfg.Path)
	if err != nil {
		w.lastErr = fmt.Errorf("open %s: %w", w.cfg.Path, err)
		return w.lastErr
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		w.lastErr = fmt.Errorf("stat %s: %w", w.cfg.Path, err)
		return w.lastErr
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// write appends b. A write that fails halfway is cut off again, so that
// the file holds whole records; when even that fails, the next record
// starts on a new line.
func (w *Writer) write(b []byte) error {
	n, err := w.f.Write(b)
	if err == nil {
		w.size += int64(n)
		w.partial = false
		return nil
	}
	if n > 0 {
		if terr := w.f.Truncate(w.size); terr != nil {
			w.size += int64(n)
			w.partial = b[n-1] != '\n'
		}
	}
	return fmt.Errorf("write %s: %w", w.cfg.Path, err)
}

// fail closes the file after an error; it is opened again after the retry
// interval.
func (w *Writer) fail(now time.Time, err error) {
	w.lastErr = err
	w.f.Close()
	w.f = nil
	w.retryAt = now.Add(w.cfg.RetryInterval)
}

// maybeRotate rotates the file when n more bytes would take it over
// MaxSize. The current file is renamed with a time suffix, the oldest
// rotated files are removed, and a new file is opened; a reader that
// sees the new file knows the old one is complete.
func (w *Writer) maybeRotate(now time.Time, n int64) {
	limit := w.cfg.MaxSize
	if limit <= 0 || w.size == 0 || w.size+n <= limit || now.Before(w.rotateAt) {
		return
	}
	name, err := rotatedName(w.cfg.Path, now)
	if err == nil {
		err = os.Rename(w.cfg.Path, name)
	}
	if err != nil {
		w.lastErr = fmt.Errorf("rotate %s: %w", w.cfg.Path, err)
		w.rotateAt = now.Add(w.cfg.RetryInterval)
		return
	}
	w.f.Close()
	w.f = nil
	w.partial = false
	if err := pruneRotated(w.cfg.Path, w.cfg.MaxFiles-1); err != nil {
		w.lastErr = err
	}
	if err := w.open(); err != nil {
		w.retryAt = now.Add(w.cfg.RetryInterval)
	}
}
