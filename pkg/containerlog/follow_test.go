package containerlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// follower runs a following Copy of path in the background.
type follower struct {
	out  syncBuffer
	done atomic.Bool // what Options.Done reports
	err  chan error
}

func startFollow(t *testing.T, ctx context.Context, path string, opts Options) *follower {
	t.Helper()
	f := &follower{err: make(chan error, 1)}
	opts.Follow = true
	opts.PollInterval = 5e6 // 5ms
	if opts.Done == nil {
		opts.Done = f.done.Load
	}
	r, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer r.Close()
		f.err <- r.Copy(ctx, &f.out)
	}()
	return f
}

func (f *follower) wait(t *testing.T) error {
	t.Helper()
	var err error
	eventually(t, "the follower to stop", func() bool {
		select {
		case err = <-f.err:
			return true
		default:
			return false
		}
	})
	return err
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %03d\n", i)
	}
	return b.String()
}

func TestFollowGrowthAndRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w := newTestWriter(t, Config{Path: path, MaxSize: 300, MaxFiles: 50, Now: newTestClock().Now})
	if err := w.ReadStream(Stdout, strings.NewReader(numbered(0, 3))); err != nil {
		t.Fatal(err)
	}
	f := startFollow(t, context.Background(), path, Options{Tail: 1})
	eventually(t, "the tail", func() bool { return f.out.String() == "line 002\n" })

	// Appended lines, then enough for several rotations.
	if err := w.ReadStream(Stdout, strings.NewReader(numbered(3, 5))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "appended lines", func() bool { return f.out.String() == numbered(2, 5) })
	if err := w.ReadStream(Stdout, strings.NewReader(numbered(5, 60))); err != nil {
		t.Fatal(err)
	}
	if rotated, _ := listRotated(path); len(rotated) < 3 {
		t.Fatalf("only %d rotations", len(rotated))
	}
	eventually(t, "lines across rotations", func() bool { return f.out.String() == numbered(2, 60) })

	// The container stops; its last lines still come.
	f.done.Store(true)
	if err := w.ReadStream(Stdout, strings.NewReader("last words")); err != nil {
		t.Fatal(err)
	}
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	if got, want := f.out.String(), numbered(2, 60)+"last words"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestFollowRotationsBetweenPolls rotates several times before the
// follower looks: it reads every file in order, once.
func TestFollowRotationsBetweenPolls(t *testing.T) {
	for _, maxFiles := range []int{100, 2} {
		t.Run(fmt.Sprint("max files ", maxFiles), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			w := newTestWriter(t, Config{Path: path, MaxSize: 100, MaxFiles: maxFiles, Now: newTestClock().Now})
			if err := w.ReadStream(Stdout, strings.NewReader(numbered(0, 2))); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{Tail: -1, Follow: true, Done: func() bool { return true }, PollInterval: 1e6})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := w.ReadStream(Stdout, strings.NewReader(numbered(2, 40))); err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			if err := r.Copy(context.Background(), &out); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if maxFiles == 100 {
				if got != numbered(0, 40) {
					t.Fatalf("got %q", got)
				}
				return
			}
			// Files removed before the follower got to them are lost;
			// the rest comes in order, without repeats.
			if !strings.HasPrefix(got, numbered(0, 2)) || !strings.HasSuffix(got, numbered(38, 40)) {
				t.Fatalf("got %q", got)
			}
			prev := -1
			for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				var i int
				fmt.Sscanf(l, "line %d", &i)
				if i <= prev {
					t.Fatalf("line %d after %d in %q", i, prev, got)
				}
				prev = i
			}
		})
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeLog(t, path, base, "stdout F hi")
	ctx, cancel := context.WithCancel(context.Background())
	f := startFollow(t, ctx, path, Options{Tail: -1})
	eventually(t, "the first line", func() bool { return f.out.String() == "hi\n" })
	cancel()
	if err := f.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestFollowTailZero shows only what is written after the start.
func TestFollowTailZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeLog(t, path, base, "stdout F old", "stdout P half-")
	f := startFollow(t, context.Background(), path, Options{Tail: 0})
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The end of the line that began before, and a new one written in two
	// steps, as a reader may see a record half written.
	rec := string(appendRecord(nil, base, Stdout, false, []byte("new")))
	if _, err := fh.WriteString(string(appendRecord(nil, base, Stdout, false, []byte("done"))) + rec[:10]); err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString(rec[10:]); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	eventually(t, "the new line", func() bool { return f.out.String() == "new\n" })
	f.done.Store(true)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
}

// TestFollowRemovedLog stops once Done says so, even when the file is
// gone (the pod was removed).
func TestFollowRemovedLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "0.log")
	writeLog(t, path, base, "stdout F hi")
	f := startFollow(t, context.Background(), path, Options{Tail: -1})
	eventually(t, "the line", func() bool { return f.out.String() == "hi\n" })
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	f.done.Store(true)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
}
