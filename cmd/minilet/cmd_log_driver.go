package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/runtime/v2/logging"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minilet/minilet/pkg/containerlog"
)

// logDriverDrainGrace is how long the log driver keeps reading after the
// shim asked it to stop (SIGTERM); the shim kills it after 12s.
const logDriverDrainGrace = 5 * time.Second

// logDriverFlags are the flags of `minilet log-driver`.
type logDriverFlags struct {
	path     string
	maxSize  string
	maxFiles int
}

// logDriverOptions configure one run of the log driver.
type logDriverOptions struct {
	path       string
	maxSize    int64
	maxFiles   int
	drainGrace time.Duration
}

// newLogDriverCommand returns the hidden `minilet log-driver`, which
// containerd's shim starts as a container's logging binary (see
// containerlog.DriverArgs): it writes the container's stdout (fd 3) and
// stderr (fd 4) to a CRI log file and rotates it, and lives as long as
// the container, whatever happens to the daemon.
func newLogDriverCommand(_ *globalFlags) *cobra.Command {
	f := &logDriverFlags{}
	cmd := &cobra.Command{
		Use:    containerlog.DriverCommand + " [--path] FILE",
		Short:  "write a container's output to a CRI log file (run by containerd's shim)",
		Hidden: true,
		Long: `log-driver is containerd's shim logging binary for minilet's containers.
The shim starts it with the container's stdout on fd 3, stderr on fd 4 and
a pipe on fd 5 that it closes once FILE is open. It writes CRI log records
to FILE until both streams end, rotating FILE by size.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := logDriverOptionsFrom(f.path, args, f.maxSize, f.maxFiles)
			if err != nil {
				return err
			}
			if err := checkShimFiles(); err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			// Run exits the process when the driver returns.
			logging.Run(func(ctx context.Context, cfg *logging.Config, ready func() error) error {
				return runLogDriver(ctx, cfg, ready, opts, errOut)
			})
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", "", "the log file (or give it as the argument)")
	fl.StringVar(&f.maxSize, "max-size", fmt.Sprint(containerlog.DefaultMaxSize), "rotate the file before it grows over this size (bytes, or a quantity such as 10Mi); 0 never rotates")
	fl.IntVar(&f.maxFiles, "max-files", containerlog.DefaultMaxFiles, "log files kept, the current one included")
	return cmd
}

// logDriverOptionsFrom checks the driver's flags and argument.
func logDriverOptionsFrom(path string, args []string, maxSize string, maxFiles int) (logDriverOptions, error) {
	switch {
	case path != "" && len(args) > 0:
		return logDriverOptions{}, errors.New("give the log file once: as the argument or with --path")
	case len(args) > 0:
		path = args[0]
	}
	if path == "" || !filepath.IsAbs(path) {
		return logDriverOptions{}, fmt.Errorf("log-driver needs the absolute path of the log file, got %q", path)
	}
	q, err := resource.ParseQuantity(maxSize)
	if err != nil || q.Sign() < 0 {
		return logDriverOptions{}, fmt.Errorf("--max-size %q: want a size in bytes, such as 10485760 or 10Mi", maxSize)
	}
	if maxFiles < 1 {
		return logDriverOptions{}, fmt.Errorf("--max-files %d: want at least 1", maxFiles)
	}
	return logDriverOptions{path: filepath.Clean(path), maxSize: q.Value(), maxFiles: maxFiles, drainGrace: logDriverDrainGrace}, nil
}

// checkShimFiles tells someone who runs the driver by hand that it needs
// the shim's file descriptors.
func checkShimFiles() error {
	for fd := 3; fd <= 5; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("log-driver is started by containerd's shim, with the container's stdout on fd 3, stderr on fd 4 and a ready pipe on fd 5; fd %d: %w", fd, err)
		}
	}
	return nil
}

// runLogDriver is the log driver: it opens the log, tells the shim it is
// ready, and copies both streams until they end. When ctx ends (the shim
// sent SIGTERM, after closing its ends of the pipes), it reads what is
// left for a while and stops. Lines it could not write are counted and
// reported on errOut.
//
// The container must never find its output pipes without a reader, so
// even a driver that cannot write reads (and discards) everything.
func runLogDriver(ctx context.Context, cfg *logging.Config, ready func() error, o logDriverOptions, errOut io.Writer) error {
	w, err := containerlog.NewWriter(containerlog.Config{Path: o.path, MaxSize: o.maxSize, MaxFiles: o.maxFiles})
	if err != nil {
		_ = ready()
		discardStreams(cfg)
		return fmt.Errorf("log driver: %w", err)
	}
	if err := ready(); err != nil {
		fmt.Fprintf(errOut, "log-driver: tell the shim the log of %s is ready: %v\n", o.path, err)
	}
	copied := make(chan error, 1)
	go func() { copied <- w.Copy(cfg.Stdout, cfg.Stderr) }()
	var copyErr error
	select {
	case copyErr = <-copied:
	case <-ctx.Done():
		grace := time.NewTimer(o.drainGrace)
		select {
		case copyErr = <-copied:
		case <-grace.C:
			copyErr = fmt.Errorf("log driver of %s stopped before the container's output ended", o.path)
		}
		grace.Stop()
	}
	closeErr := w.Close()
	if n := w.Dropped(); n > 0 {
		fmt.Fprintf(errOut, "log-driver: %d records of %s could not be written: %v\n", n, o.path, w.Err())
	}
	return errors.Join(copyErr, closeErr)
}

// discardStreams reads both streams to their end.
func discardStreams(cfg *logging.Config) {
	done := make(chan struct{})
	for _, r := range []io.Reader{cfg.Stdout, cfg.Stderr} {
		go func() {
			if r != nil {
				_, _ = io.Copy(io.Discard, r)
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
}
