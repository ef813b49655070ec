package containerlog

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDriverArgsAnyOrder(t *testing.T) {
	want := DriverOptions{Path: "/var/log/pods/x/c/0.log", MaxSize: 1234, MaxFiles: 3, DrainGrace: DefaultDrainGrace, PartialFlush: DefaultPartialFlush}
	args := DriverArgs(want.Path, want.MaxSize, want.MaxFiles, want.Stdin)
	orders := [][]string{
		{DriverCommand, "--max-size", "--max-files"},
		{"--max-files", DriverCommand, "--max-size"},
		{"--max-size", "--max-files", DriverCommand},
	}
	for _, order := range orders {
		var argv []string
		for _, k := range order {
			argv = append(argv, k, args[k])
		}
		got, err := ParseDriverArgs(argv)
		if err != nil || got != want {
			t.Errorf("ParseDriverArgs(%q) = %+v, %v; want %+v", argv, got, err, want)
		}
	}
	if got, err := ParseDriverArgs([]string{DriverCommand, "/x.log", "--partial-flush-ms", "0"}); err != nil || got.PartialFlush != 0 {
		t.Errorf("--partial-flush-ms 0: %+v, %v; want no flush", got, err)
	}
	for _, bad := range [][]string{
		{DriverCommand, "relative.log"},
		{DriverCommand, "/x.log", "--partial-flush-ms", "-1"},
		{DriverCommand, "/x.log", "--max-files", "0"},
		{DriverCommand, "/x.log", "--bogus", "1"},
		{DriverCommand},
	} {
		if _, err := ParseDriverArgs(bad); err == nil {
			t.Errorf("ParseDriverArgs(%q) accepted", bad)
		}
	}
}

func TestRunDriverCopiesBothStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- RunDriver(context.Background(), outR, errR, func() error { close(ready); return nil },
			DriverOptions{Path: path, MaxSize: 1 << 20, MaxFiles: 2, DrainGrace: time.Second}, io.Discard)
	}()
	<-ready
	_, _ = outW.Write([]byte("hello\n"))
	_, _ = errW.Write([]byte("oops\n"))
	outW.Close()
	errW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), " stdout F hello\n") || !strings.Contains(string(b), " stderr F oops\n") {
		t.Fatalf("log: %q", b)
	}
}
