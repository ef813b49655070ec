package containerlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DriverOptions configure one run of the log driver.
type DriverOptions struct {
	Path       string
	MaxSize    int64
	MaxFiles   int
	DrainGrace time.Duration // how long to read on after ctx ends
	// PartialFlush: see Config.PartialFlush.
	PartialFlush time.Duration
	Stdin        Stdin // the container's stdin, if it has one
}

// DefaultDrainGrace is how long the driver keeps reading after the shim
// asked it to stop (SIGTERM); the shim kills it after 12s.
const DefaultDrainGrace = 5 * time.Second

// RunDriver is the log driver: it opens the log, tells the shim it is
// ready, and copies both streams until they end. When ctx ends (the shim
// sent SIGTERM, after closing its ends of the pipes), it reads what is
// left for a while and stops. Lines it could not write are counted and
// reported on errOut.
//
// The container must never find its output pipes without a reader, so
// even a driver that cannot write reads (and discards) everything.
func RunDriver(ctx context.Context, stdout, stderr io.Reader, ready func() error, o DriverOptions, errOut io.Writer) error {
	w, err := NewWriter(Config{Path: o.Path, MaxSize: o.MaxSize, MaxFiles: o.MaxFiles, PartialFlush: o.PartialFlush})
	if err != nil {
		_ = ready()
		discard(stdout, stderr)
		return fmt.Errorf("log driver: %w", err)
	}
	if err := ready(); err != nil {
		fmt.Fprintf(errOut, "log-driver: tell the shim the log of %s is ready: %v\n", o.Path, err)
	}
	if o.Stdin.FIFO != "" {
		relay, err := startStdinRelay(o.Stdin)
		if err != nil {
			// The container runs on, its stdin closed.
			fmt.Fprintf(errOut, "log-driver: stdin of %s: %v\n", o.Path, err)
		} else {
			defer relay.close()
		}
	}
	copied := make(chan error, 1)
	go func() { copied <- w.Copy(stdout, stderr) }()
	var copyErr error
	select {
	case copyErr = <-copied:
	case <-ctx.Done():
		grace := time.NewTimer(o.DrainGrace)
		select {
		case copyErr = <-copied:
		case <-grace.C:
			copyErr = fmt.Errorf("log driver of %s stopped before the container's output ended", o.Path)
		}
		grace.Stop()
	}
	closeErr := w.Close()
	if n := w.Dropped(); n > 0 {
		fmt.Fprintf(errOut, "log-driver: %d records of %s could not be written: %v\n", n, o.Path, w.Err())
	}
	return errors.Join(copyErr, closeErr)
}

func discard(readers ...io.Reader) {
	done := make(chan struct{})
	for _, r := range readers {
		go func() {
			if r != nil {
				_, _ = io.Copy(io.Discard, r)
			}
			done <- struct{}{}
		}()
	}
	for range readers {
		<-done
	}
}

// ParseDriverArgs reads the arguments DriverArgs made, in any order (the
// shim passes them as key, value pairs in no fixed order): the subcommand
// name followed by the log path, --max-size BYTES, --max-files N and
// --partial-flush-ms MS (DefaultPartialFlush when absent; 0 holds text
// until its newline).
func ParseDriverArgs(args []string) (DriverOptions, error) {
	o := DriverOptions{MaxSize: DefaultMaxSize, MaxFiles: DefaultMaxFiles, DrainGrace: DefaultDrainGrace, PartialFlush: DefaultPartialFlush}
	for i := 0; i < len(args); i++ {
		key := args[i]
		if i+1 >= len(args) {
			return o, fmt.Errorf("log driver: %q has no value", key)
		}
		val := args[i+1]
		i++
		switch key {
		case DriverCommand, "--path":
			o.Path = val
		case "--max-size":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return o, fmt.Errorf("log driver: --max-size %q: want bytes", val)
			}
			o.MaxSize = n
		case "--partial-flush-ms":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return o, fmt.Errorf("log driver: --partial-flush-ms %q: want milliseconds", val)
			}
			o.PartialFlush = time.Duration(min(n, 3600000)) * time.Millisecond
		case "--stdin":
			o.Stdin.FIFO = val
		case "--attach":
			o.Stdin.Socket = val
		case "--stdin-once":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return o, fmt.Errorf("log driver: --stdin-once %q: want true or false", val)
			}
			o.Stdin.Once = b
		case "--max-files":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return o, fmt.Errorf("log driver: --max-files %q: want at least 1", val)
			}
			o.MaxFiles = n
		default:
			return o, fmt.Errorf("log driver: unknown argument %q", key)
		}
	}
	if o.Path == "" || o.Path[0] != '/' {
		return o, fmt.Errorf("log driver: needs the absolute path of the log file, got %q", o.Path)
	}
	return o, nil
}
