package containerlog

import (
	"bufio"
	"errors"
	"io"
)

// readBufferSize is how much of a stream is read at once, as containerd.
const readBufferSize = 4096

// splitLines reads r to its end and hands its lines to emit as records,
// exactly as containerd's CRI logger cuts them:
//   - a line ends at "\n"; a "\r\n" ending is dropped whole;
//   - a line longer than maxLen is cut into maxLen-byte pieces tagged
//     partial, and its last piece (even one of exactly maxLen bytes) is
//     full;
//   - an empty line is a full record with no text;
//   - text left without a newline when the stream ends (or fails) is one
//     more partial record.
//
// maxLen <= 0 means DefaultMaxLineSize. emit must not keep text. The error
// is the stream's read error, nil at EOF.
func splitLines(r io.Reader, maxLen int, emit func(partial bool, text []byte)) error {
	if maxLen <= 0 {
		maxLen = DefaultMaxLineSize
	}
	br := bufio.NewReaderSize(r, min(readBufferSize, maxLen))
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		complete := err == nil
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil
			// Keep a "\r\n" that straddles the buffer together, so that
			// the "\r" is dropped with the "\n".
			if n := len(chunk); n > 1 && chunk[n-1] == '\r' {
				_ = br.UnreadByte() // cannot fail right after ReadSlice
				chunk = chunk[:n-1]
			}
		}
		if complete {
			chunk = chunk[:len(chunk)-1]
			if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
				chunk = chunk[:n-1]
			}
		}
		line = append(line, chunk...)
		for len(line) > maxLen {
			emit(true, line[:maxLen])
			line = append(line[:0], line[maxLen:]...)
		}
		if complete {
			emit(false, line)
			line = line[:0]
			continue
		}
		if err != nil {
			if len(line) > 0 {
				emit(true, line)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
