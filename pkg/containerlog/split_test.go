package containerlog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestSplitLines(t *testing.T) {
	long := strings.Repeat("x", DefaultMaxLineSize)
	for _, tc := range []struct {
		name   string
		in     string
		maxLen int
		want   []string
	}{
		{"lines", "a\nbc\n", 0, []string{"F a", "F bc"}},
		{"empty input", "", 0, nil},
		{"empty line", "\n\na\n", 0, []string{"F ", "F ", "F a"}},
		{"crlf dropped", "a\r\nb\r\n", 0, []string{"F a", "F b"}},
		{"lone cr kept", "a\rb\n", 0, []string{"F a\rb"}},
		{"last line without newline is partial", "a\nlast", 0, []string{"F a", "P last"}},
		{"cr at eof kept", "a\r", 0, []string{"P a\r"}},
		{"16 KiB is one record", long + "\n", 0, []string{"F " + long}},
		{"16 KiB + 1 is split", long + "y\n", 0, []string{"P " + long, "F y"}},
		{"32 KiB ends with a full piece", long + long + "\n", 0, []string{"P " + long, "F " + long}},
		{"long partial at eof", long + "zz", 0, []string{"P " + long, "P zz"}},
		{"small max", "abcdefghijklmnopqrstuvwxyz0123456789abcd\n", 16,
			[]string{"P abcdefghijklmnop", "P qrstuvwxyz012345", "F 6789abcd"}},
		{"crlf across the read buffer", strings.Repeat("a", 15) + "\r\nb\n", 16,
			[]string{"F " + strings.Repeat("a", 15), "F b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{{"whole", strings.NewReader(tc.in)}, {"byte by byte", iotest.OneByteReader(strings.NewReader(tc.in))}} {
				var got []string
				err := splitLines(r.r, tc.maxLen, 0, func(partial bool, text []byte) {
					tag := "F"
					if partial {
						tag = "P"
					}
					got = append(got, tag+" "+string(text))
				})
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s: got %q, want %q", r.name, got, tc.want)
				}
			}
		})
	}
}

func TestSplitLinesReadError(t *testing.T) {
	boom := errors.New("boom")
	var got []string
	err := splitLines(io.MultiReader(strings.NewReader("a\nhalf"), iotest.ErrReader(boom)), 0, 0, func(partial bool, text []byte) {
		got = append(got, fmt.Sprint(partial, " ", string(text)))
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if want := []string{"false a", "true half"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ok      bool
		stream  int
		partial bool
		text    string
	}{
		{"2025-03-01T10:00:00.5Z stdout F hello world", true, streamStdout, false, "hello world"},
		{"2025-03-01T10:00:00+02:00 stderr P x", true, streamStderr, true, "x"},
		{"2025-03-01T10:00:00Z stdout F ", true, streamStdout, false, ""},
		{"2025-03-01T10:00:00Z stdout F", true, streamStdout, false, ""},
		{"2025-03-01T10:00:00Z stdout F:extra text", true, streamStdout, false, "text"},
		{"2025-03-01T10:00:00Z stdin F x", false, 0, false, ""},
		{"2025-03-01T10:00:00Z stdout X x", false, 0, false, ""},
		{"yesterday stdout F x", false, 0, false, ""},
		{"garbage", false, 0, false, ""},
	} {
		r, err := parseRecord([]byte(tc.line))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if tc.ok && (r.stream != tc.stream || r.partial != tc.partial || string(r.text) != tc.text) {
			t.Errorf("%q: got stream %d partial %v text %q", tc.line, r.stream, r.partial, r.text)
		}
	}
}

// TestSplitLinesFlushesHeldText: text that waits for its newline longer
// than the flush time is written as a partial record while the stream
// stays open, a trailing "\r" stays held, and the line goes on after it.
func TestSplitLinesFlushesHeldText(t *testing.T) {
	pr, pw := io.Pipe()
	records := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- splitLines(pr, 0, 20*time.Millisecond, func(partial bool, text []byte) {
			tag := "F"
			if partial {
				tag = "P"
			}
			records <- tag + " " + string(text)
		})
	}()
	next := func(want string) {
		t.Helper()
		select {
		case got := <-records:
			if got != want {
				t.Fatalf("record %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no record while waiting for %q", want)
		}
	}
	write := func(s string) {
		t.Helper()
		if _, err := io.WriteString(pw, s); err != nil {
			t.Fatal(err)
		}
	}
	write("DONE")
	next("P DONE")
	write("more\r")
	next("P more")
	write("\nnext line\n")
	next("F ")
	next("F next line")
	write("tail")
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	next("P tail")
	select {
	case extra := <-records:
		t.Fatalf("extra record %q", extra)
	default:
	}
}
