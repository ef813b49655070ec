package containerlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxRecordSize bounds one line of a log file; longer lines are not
// records the Writer makes, and are skipped.
const maxRecordSize = 1 << 20

// logFileReader is one open log file.
type logFileReader struct {
	f  *os.File
	fi fs.FileInfo
}

func openForRead(path string) (*logFileReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return &logFileReader{f: f, fi: fi}, nil
}

// lineReader reads the lines of a file that may still grow.
type lineReader struct {
	br       *bufio.Reader
	off      int64  // file offset of the next line
	partial  []byte // the start of a line whose newline is not written yet
	skipping bool   // inside an over-long line
}

func newLineReader(f *os.File, off int64) (*lineReader, error) {
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek %s: %w", f.Name(), err)
	}
	return &lineReader{br: bufio.NewReaderSize(f, 64<<10), off: off}, nil
}

// next returns the next line without its newline and the offset it starts
// at. The line is valid until the next call. At the end of the file it
// returns io.EOF and keeps what it read of an unfinished line, so that a
// later call, once the file has grown, returns the whole line.
func (l *lineReader) next() (line []byte, start int64, err error) {
	for {
		chunk, err := l.br.ReadSlice('\n')
		if err == nil {
			if l.skipping {
				l.skipping = false
				l.off += int64(len(chunk))
				continue
			}
			line = chunk
			if len(l.partial) > 0 {
				l.partial = append(l.partial, chunk...)
				line = l.partial
				l.partial = l.partial[:0]
			}
			start = l.off
			l.off += int64(len(line))
			return line[:len(line)-1], start, nil
		}
		if l.skipping {
			l.off += int64(len(chunk))
		} else {
			l.partial = append(l.partial, chunk...)
			if len(l.partial) > maxRecordSize {
				l.off += int64(len(l.partial))
				l.partial = l.partial[:0]
				l.skipping = true
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, 0, err
		}
	}
}

// rest returns, once the file is complete, its last line when it has no
// newline (a record cut short by a full disk or a crash), and its offset.
func (l *lineReader) rest() (line []byte, start int64) {
	if l.skipping || len(l.partial) == 0 {
		return nil, 0
	}
	line, start = l.partial, l.off
	l.off += int64(len(line))
	l.partial = nil
	return line, start
}
