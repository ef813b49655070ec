package containerlog

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var base = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// readAll reads the log at path with opts, without following.
func readAll(t *testing.T, path string, opts Options) string {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if err := r.Copy(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeLog(t, path, base,
		"stdout F one",        // 10:00:00
		"stderr F two",        // 10:00:01
		"stdout P th",         // 10:00:02
		"stdout P r",          // 10:00:03
		"stdout F ee",         // 10:00:04
		"stdout F ",           // 10:00:05
		"stderr P unfinished", // 10:00:06
	)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"all", Options{Tail: -1}, "one\ntwo\nthree\n\nunfinished"},
		{"timestamps", Options{Tail: -1, Timestamps: true},
			"2025-03-01T10:00:00Z one\n2025-03-01T10:00:01Z two\n2025-03-01T10:00:02Z three\n2025-03-01T10:00:05Z \n2025-03-01T10:00:06Z unfinished"},
		{"tail 2", Options{Tail: 2}, "\nunfinished"},
		{"tail 3", Options{Tail: 3}, "three\n\nunfinished"},
		{"tail 4 starts at a whole line", Options{Tail: 4}, "two\nthree\n\nunfinished"},
		{"tail 100", Options{Tail: 100}, "one\ntwo\nthree\n\nunfinished"},
		{"tail 0", Options{Tail: 0}, ""},
		{"since", Options{Tail: -1, Since: base.Add(2 * time.Second)}, "three\n\nunfinished"},
		{"since a line's later piece leaves the line out", Options{Tail: -1, Since: base.Add(3 * time.Second)}, "\nunfinished"},
		{"since and tail", Options{Tail: 1, Since: base.Add(time.Second), Timestamps: true}, "2025-03-01T10:00:06Z unfinished"},
		{"stdout only", Options{Tail: -1, Stream: Stdout}, "one\nthree\n\n"},
		{"stderr only", Options{Tail: -1, Stream: Stderr}, "two\nunfinished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readAll(t, path, tc.opts); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestReadInterleavedPieces checks that the pieces of a long line are
// joined per stream, and that a tail starting while the other stream is in
// the middle of a line leaves that line out.
func TestReadInterleavedPieces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeLog(t, path, base,
		"stdout P long-",
		"stderr F err line",
		"stdout P line-",
		"stdout F end",
		"stderr F last",
	)
	if got, want := readAll(t, path, Options{Tail: -1}), "err line\nlong-line-end\nlast\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Lines count where they start: the last two are "err line" and
	// "last"; the stdout line began before them.
	if got, want := readAll(t, path, Options{Tail: 2}), "err line\nlast\n"; got != want {
		t.Fatalf("tail 2: got %q, want %q", got, want)
	}
	if got, want := readAll(t, path, Options{Tail: 3}), "err line\nlong-line-end\nlast\n"; got != want {
		t.Fatalf("tail 3: got %q, want %q", got, want)
	}
	if got, want := readAll(t, path, Options{Tail: 1}), "last\n"; got != want {
		t.Fatalf("tail 1: got %q, want %q", got, want)
	}
	if got, want := readAll(t, path, Options{Tail: 1, Timestamps: true}), "2025-03-01T10:00:04Z last\n"; got != want {
		t.Fatalf("tail 1 with timestamps: got %q, want %q", got, want)
	}
}

func TestReadRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	writeLog(t, path+".20250301-100000", base, "stdout F a", "stdout F b")                             // the kubelet's naming
	writeLog(t, path+".20250301-100001.500000", base.Add(10*time.Second), "stdout F c", "stdout P d-") // a line across files
	writeLog(t, path, base.Add(20*time.Second), "stdout F e", "stdout F f")
	// Not rotated logs of this file.
	for _, other := range []string{path + ".20250301-090000.gz", path + ".tmp", filepath.Join(dir, "1.log.20250301-080000")} {
		writeLog(t, other, base, "stdout F NOT THIS")
	}
	if got, want := readAll(t, path, Options{Tail: -1}), "a\nb\nc\nd-e\nf\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := readAll(t, path, Options{Tail: 3}), "c\nd-e\nf\n"; got != want {
		t.Fatalf("tail 3: got %q, want %q", got, want)
	}
	if got, want := readAll(t, path, Options{Tail: 1}), "f\n"; got != want {
		t.Fatalf("tail 1: got %q, want %q", got, want)
	}
}

func TestReadSkipsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	data := "not a record\n" +
		"2025-03-01T10:00:00Z stdout F good\n" +
		strings.Repeat("x", maxRecordSize+10) + "\n" +
		"2025-03-01T10:00:01Z stdout F also good\n" +
		"2025-03-01T10:00:02Z stdout F cut sho" // a record a full disk cut short
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, path, Options{Tail: -1}), "good\nalso good\ncut sho\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "0.log"), Options{Tail: -1})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

// TestReadWriterOutput reads back what a Writer wrote, across rotations.
func TestReadWriterOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path, MaxSize: 4096, MaxFiles: 10, MaxLineSize: 100, Now: newTestClock().Now})
	var in strings.Builder
	for i := range 300 {
		in.WriteString(strings.Repeat(string(rune('a'+i%26)), i))
		in.WriteString("\n")
	}
	if err := w.ReadStream(Stdout, strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	if rotated, _ := listRotated(path); len(rotated) != 9 {
		t.Fatalf("%d rotated files, want 9", len(rotated))
	}
	got := readAll(t, path, Options{Tail: 5})
	lines := strings.Split(in.String(), "\n")
	if want := strings.Join(lines[295:], "\n"); got != want {
		t.Fatalf("tail 5: got %q, want %q", got, want)
	}
}
