package containerlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func newTestWriter(t *testing.T, cfg Config) *Writer {
	t.Helper()
	w, err := NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestWriterFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	clock := newTestClock()
	w := newTestWriter(t, Config{Path: path, Now: clock.Now})
	long := strings.Repeat("x", DefaultMaxLineSize)

	if err := w.ReadStream(Stdout, strings.NewReader("hello\n\n"+long+"yz\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.ReadStream(Stderr, strings.NewReader("oops\r\nno newline")); err != nil {
		t.Fatal(err)
	}
	want := []string{"stdout F hello", "stdout F ", "stdout P " + long, "stdout F yz", "stderr F oops", "stderr P no newline"}
	got := recordsOf(t, path)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records:\n got %.200q\nwant %.200q", got, want)
	}
	data, _ := os.ReadFile(path)
	if first := strings.SplitN(string(data), "\n", 2)[0]; first != "2025-03-01T10:00:00.001Z stdout F hello" {
		t.Fatalf("first record %q: want the clock's RFC3339Nano timestamp", first)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != logFileMode {
		t.Fatalf("mode %v, want %v", fi.Mode().Perm(), os.FileMode(logFileMode))
	}
}

// TestWriterInterleaving feeds both streams through pipes, in steps, and
// checks the records come in the order they were written.
func TestWriterInterleaving(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path, Now: newTestClock().Now})
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	copied := make(chan error, 1)
	go func() { copied <- w.Copy(outR, errR) }()

	var want []string
	step := func(pw *io.PipeWriter, s string, rec string) {
		t.Helper()
		if _, err := io.WriteString(pw, s); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
		eventually(t, rec, func() bool {
			data, _ := os.ReadFile(path)
			return strings.Count(string(data), "\n") == len(want)
		})
	}
	step(outW, "one\n", "stdout F one")
	step(errW, "two\n", "stderr F two")
	if _, err := io.WriteString(outW, "thr"); err != nil { // no record until the newline
		t.Fatal(err)
	}
	step(errW, "four\n", "stderr F four")
	step(outW, "ee\n", "stdout F three")
	outW.Close()
	if _, err := io.WriteString(errW, "five"); err != nil {
		t.Fatal(err)
	}
	errW.Close() // the last line, without a newline, is written at the end
	want = append(want, "stderr P five")
	if err := <-copied; err != nil {
		t.Fatal(err)
	}
	if got := recordsOf(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records:\n got %q\nwant %q", got, want)
	}
}

// TestWriterConcurrentStreams checks that records of two busy streams are
// never torn or lost.
func TestWriterConcurrentStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path})
	const n = 2000
	gen := func(name string) io.Reader {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s line %d %s\n", name, i, strings.Repeat("=", i%50))
		}
		return iotestChunks(b.String())
	}
	if err := w.Copy(gen("out"), gen("err")); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for _, r := range recordsOf(t, path) {
		var stream, tag, name string
		var i int
		if _, err := fmt.Sscanf(r, "%s %s %s line %d", &stream, &tag, &name, &i); err != nil {
			t.Fatalf("record %q: %v", r, err)
		}
		if tag != "F" || (stream == "stdout") != (name == "out") || i != next[name] {
			t.Fatalf("record %q out of place (next %s is %d)", r, name, next[name])
		}
		next[name]++
	}
	if next["out"] != n || next["err"] != n {
		t.Fatalf("got %v records, want %d each", next, n)
	}
}

// iotestChunks reads s in uneven chunks, as a pipe would give it.
func iotestChunks(s string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for i := 0; len(s) > 0; i++ {
			k := min(len(s), 1+(i*7919)%3000)
			if _, err := io.WriteString(pw, s[:k]); err != nil {
				return
			}
			s = s[k:]
		}
		pw.Close()
	}()
	return pr
}

func TestWriterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	clock := newTestClock()
	w := newTestWriter(t, Config{Path: path, MaxSize: 200, MaxFiles: 3, Now: clock.Now})
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, "line %02d\n", i)
	}
	if err := w.ReadStream(Stdout, strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	rotated, err := listRotated(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 2 {
		t.Fatalf("%d rotated files, want MaxFiles-1 = 2: %v", len(rotated), rotated)
	}
	var all []string
	for _, f := range append(rotated, rotatedFile{path: path}) {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 200 {
			t.Errorf("%s is %d bytes, over MaxSize", f.path, fi.Size())
		}
		all = append(all, recordsOf(t, f.path)...)
	}
	// The files hold the last lines, in order, with no gap.
	first := 40 - len(all)
	for i, r := range all {
		if want := fmt.Sprintf("stdout F line %02d", first+i); r != want {
			t.Fatalf("record %d is %q, want %q", i, r, want)
		}
	}
	name := filepath.Base(rotated[0].path)
	if !strings.HasPrefix(name, "0.log.20250301-1000") || len(name) != len("0.log.20060102-150405.000000") {
		t.Fatalf("rotated name %q, want 0.log.<YYYYMMDD-hhmmss.ffffff>", name)
	}
	if w.Dropped() != 0 || w.Err() != nil {
		t.Fatalf("dropped %d, err %v", w.Dropped(), w.Err())
	}
}

func TestWriterRotationKeepsNoRotatedFileWithMaxFilesOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path, MaxSize: 100, MaxFiles: 1, Now: newTestClock().Now})
	if err := w.ReadStream(Stdout, strings.NewReader(strings.Repeat("some text here\n", 30))); err != nil {
		t.Fatal(err)
	}
	if rotated, _ := listRotated(path); len(rotated) != 0 {
		t.Fatalf("rotated files left: %v", rotated)
	}
	if n := len(recordsOf(t, path)); n == 0 || n == 30 {
		t.Fatalf("current file holds %d records", n)
	}
}

func TestWriterRecordLargerThanMaxSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path, MaxSize: 50, MaxFiles: 5, Now: newTestClock().Now})
	big := strings.Repeat("b", 100)
	if err := w.ReadStream(Stdout, strings.NewReader("a\n"+big+"\nc\n")); err != nil {
		t.Fatal(err)
	}
	rotated, _ := listRotated(path)
	if len(rotated) != 2 {
		t.Fatalf("%d rotated files, want 2", len(rotated))
	}
	got := append(append(recordsOf(t, rotated[0].path), recordsOf(t, rotated[1].path)...), recordsOf(t, path)...)
	if want := []string{"stdout F a", "stdout F " + big, "stdout F c"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// fullDisk is a log file whose writes fail with ENOSPC while full is set,
// after writing half of what they were given.
type fullDisk struct {
	mu            sync.Mutex
	full          bool
	truncateFails bool
	writes        int // failed writes
	opens         int
}

type fullDiskFile struct {
	*os.File
	d *fullDisk
}

func (d *fullDisk) open(path string) (logFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opens++
	f, err := openLogFile(path)
	if err != nil {
		return nil, err
	}
	return fullDiskFile{File: f.(*os.File), d: d}, nil
}

func (d *fullDisk) set(full, truncateFails bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.full, d.truncateFails = full, truncateFails
}

func (f fullDiskFile) Write(p []byte) (int, error) {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if !f.d.full {
		return f.File.Write(p)
	}
	f.d.writes++
	n, _ := f.File.Write(p[:len(p)/2])
	return n, syscall.ENOSPC
}

func (f fullDiskFile) Truncate(size int64) error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if f.d.truncateFails {
		return syscall.EIO
	}
	return f.File.Truncate(size)
}

func TestWriterDiskFull(t *testing.T) {
	for _, truncateFails := range []bool{false, true} {
		t.Run(fmt.Sprint("truncate fails ", truncateFails), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			clock := newTestClock()
			disk := &fullDisk{}
			w := newTestWriter(t, Config{Path: path, Now: clock.Now, RetryInterval: time.Minute, openFile: disk.open})

			w.WriteRecord(Stdout, false, []byte("before"))
			disk.set(true, truncateFails)
			w.WriteRecord(Stdout, false, []byte("lost while full"))
			// Within the retry interval the file is not even tried.
			for range 100 {
				w.WriteRecord(Stderr, false, []byte("dropped"))
			}
			if disk.writes != 1 {
				t.Fatalf("%d writes tried on the full disk, want 1", disk.writes)
			}
			if w.Dropped() != 101 || !errors.Is(w.Err(), syscall.ENOSPC) {
				t.Fatalf("dropped %d err %v, want 101 and ENOSPC", w.Dropped(), w.Err())
			}
			disk.set(false, false)
			clock.Advance(time.Minute)
			w.WriteRecord(Stdout, false, []byte("after"))
			if disk.opens != 2 {
				t.Fatalf("%d opens, want the file opened again after the retry interval", disk.opens)
			}

			data, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if !truncateFails {
				if got := recordsIn(t, string(data)); fmt.Sprint(got) != fmt.Sprint([]string{"stdout F before", "stdout F after"}) {
					t.Fatalf("records %q: the half-written one must be cut off", got)
				}
				return
			}
			// The cut record stays, but the next one starts on a line of
			// its own.
			if len(lines) != 3 || !strings.HasSuffix(lines[0], " stdout F before") || !strings.HasSuffix(lines[2], " stdout F after") {
				t.Fatalf("file %q", data)
			}
			if _, err := parseRecord([]byte(lines[2])); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWriterKeepsReadingWhenFull checks that a failing file never holds
// up the stream: everything is read, and what could not be written is
// counted.
func TestWriterKeepsReadingWhenFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	disk := &fullDisk{full: true}
	w := newTestWriter(t, Config{Path: path, openFile: disk.open})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- w.ReadStream(Stdout, pr) }()
	for i := range 1000 {
		if _, err := fmt.Fprintf(pw, "line %d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.Dropped() != 1000 {
		t.Fatalf("dropped %d, want 1000", w.Dropped())
	}
}

func TestWriterOpensFileLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	path := filepath.Join(dir, "0.log")
	clock := newTestClock()
	w := newTestWriter(t, Config{Path: path, Now: clock.Now, RetryInterval: time.Second})
	w.WriteRecord(Stdout, false, []byte("no directory yet"))
	if w.Dropped() != 1 || !errors.Is(w.Err(), os.ErrNotExist) {
		t.Fatalf("dropped %d err %v", w.Dropped(), w.Err())
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	w.WriteRecord(Stdout, false, []byte("written"))
	if got := recordsOf(t, path); fmt.Sprint(got) != fmt.Sprint([]string{"stdout F written"}) {
		t.Fatalf("records %q", got)
	}
}

func TestWriterAppendsToExistingFileAndCountsItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeLog(t, path, time.Now(), "stdout F "+strings.Repeat("o", 80))
	w := newTestWriter(t, Config{Path: path, MaxSize: 120, MaxFiles: 2, Now: newTestClock().Now})
	w.WriteRecord(Stdout, false, []byte("new"))
	rotated, _ := listRotated(path)
	if len(rotated) != 1 || len(recordsOf(t, rotated[0].path)) != 1 {
		t.Fatalf("the old content must be rotated away first: %v", rotated)
	}
	if got := recordsOf(t, path); fmt.Sprint(got) != fmt.Sprint([]string{"stdout F new"}) {
		t.Fatalf("records %q", got)
	}
}

func TestWriterAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path})
	w.Close()
	w.WriteRecord(Stdout, false, []byte("late"))
	if w.Dropped() != 1 {
		t.Fatalf("dropped %d", w.Dropped())
	}
}

func TestNewWriterConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {Path: "/x", MaxSize: -1}, {Path: "/x", MaxLineSize: -1}} {
		if _, err := NewWriter(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
