package containerlog

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Stream names the output of a container a record came from.
type Stream string

// The two streams of a container.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// DefaultMaxLineSize is the longest text of one record: longer lines are
// cut into pieces (containerd's default max_container_log_line_size).
const DefaultMaxLineSize = 16 * 1024

// Tags of a record: the end of a line, or a piece of a longer one.
const (
	tagFull    = 'F'
	tagPartial = 'P'
)

// appendRecord appends one record, newline included, to b.
func appendRecord(b []byte, ts time.Time, s Stream, partial bool, text []byte) []byte {
	b = ts.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, s...)
	b = append(b, ' ')
	if partial {
		b = append(b, tagPartial)
	} else {
		b = append(b, tagFull)
	}
	b = append(b, ' ')
	b = append(b, text...)
	return append(b, '\n')
}

// record is one parsed line of a log file.
type record struct {
	ts      time.Time
	stream  int // streamStdout or streamStderr
	partial bool
	text    []byte // aliases the line it was parsed from
}

// Indexes of the streams in per-stream state.
const (
	streamStdout = iota
	streamStderr
	numStreams
)

var errBadRecord = errors.New("not a CRI log record")

// parseRecord parses one line of a log file, without its newline. Tags
// may carry extra colon-separated attributes ("F:x"), as the CRI format
// allows; only the first one counts.
func parseRecord(line []byte) (record, error) {
	var r record
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return r, fmt.Errorf("%w: no timestamp", errBadRecord)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return r, fmt.Errorf("%w: timestamp: %w", errBadRecord, err)
	}
	r.ts = t
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return r, fmt.Errorf("%w: no stream", errBadRecord)
	}
	switch Stream(stream) {
	case Stdout:
		r.stream = streamStdout
	case Stderr:
		r.stream = streamStderr
	default:
		return r, fmt.Errorf("%w: unknown stream %q", errBadRecord, stream)
	}
	// The text may be missing altogether after the tag of an empty line.
	tags, text, _ := bytes.Cut(rest, []byte{' '})
	tag, _, _ := bytes.Cut(tags, []byte{':'})
	switch {
	case len(tag) == 1 && tag[0] == tagFull:
	case len(tag) == 1 && tag[0] == tagPartial:
		r.partial = true
	default:
		return r, fmt.Errorf("%w: unknown tag %q", errBadRecord, tag)
	}
	r.text = text
	return r, nil
}
