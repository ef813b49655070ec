package containerlog

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minilet/minilet/internal/syncbuf"
)

// testClock is a clock that moves on by step at every reading.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), step: time.Millisecond}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventually polls cond until it holds, and fails the test after a
// deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// syncBuffer is a buffer the test reads while something writes to it.
type syncBuffer = syncbuf.Buffer

// recordsOf returns the records of a log file as "stream tag text",
// without timestamps, after checking that each timestamp parses.
func recordsOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return recordsIn(t, string(data))
}

func recordsIn(t *testing.T, data string) []string {
	t.Helper()
	if data == "" {
		return nil
	}
	if !strings.HasSuffix(data, "\n") {
		t.Fatalf("log does not end with a newline: %q", data)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad record %q", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, rest)
	}
	return out
}

// writeLog writes records given as "stream tag text" lines, one second
// apart from base, to path.
func writeLog(t *testing.T, path string, base time.Time, recs ...string) {
	t.Helper()
	var b []byte
	for i, r := range recs {
		stream, rest, _ := strings.Cut(r, " ")
		tag, text, _ := strings.Cut(rest, " ")
		b = appendRecord(b, base.Add(time.Duration(i)*time.Second), Stream(stream), tag == "P", []byte(text))
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}
