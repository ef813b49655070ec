package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/containerd/runtime/v2/logging"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minilet/minilet/pkg/containerlog"
)

// logDriverDrainGrace is how long the log driver keeps reading after the
// shim asked it to stop (SIGTERM).
const logDriverDrainGrace = containerlog.DefaultDrainGrace

// logDriverFlags are the flags of `minilet log-driver`.
type logDriverFlags struct {
	path     string
	maxSize  string
	maxFiles int
	// a container with stdin: its fifo, the attach socket, stdinOnce
	stdin, attach, stdinOnce string
}

// logDriverOptions configure one run of the log driver.
type logDriverOptions struct {
	path       string
	maxSize    int64
	maxFiles   int
	drainGrace time.Duration
	stdin      containerlog.Stdin
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
			if opts.stdin, err = stdinFrom(f.stdin, f.attach, f.stdinOnce); err != nil {
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
	fl.StringVar(&f.stdin, "stdin", "", "the container's stdin fifo, whose writing end the driver holds")
	fl.StringVar(&f.attach, "attach", "", "unix socket whose clients' input goes to the container's stdin")
	// A string, not a bool: the shim passes "--stdin-once false" as two
	// arguments.
	fl.StringVar(&f.stdinOnce, "stdin-once", "false", "close stdin when the first attach client leaves (true or false)")
	return cmd
}

// stdinFrom checks the stdin flags of the driver.
func stdinFrom(fifo, socket, once string) (containerlog.Stdin, error) {
	o, err := strconv.ParseBool(once)
	if err != nil {
		return containerlog.Stdin{}, fmt.Errorf("--stdin-once %q: want true or false", once)
	}
	if (fifo != "" && !filepath.IsAbs(fifo)) || (socket != "" && !filepath.IsAbs(socket)) {
		return containerlog.Stdin{}, errors.New("--stdin and --attach need absolute paths")
	}
	if socket != "" && fifo == "" {
		return containerlog.Stdin{}, errors.New("--attach needs --stdin")
	}
	return containerlog.Stdin{FIFO: fifo, Socket: socket, Once: o}, nil
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

// runLogDriver runs containerlog.RunDriver on the shim's streams.
func runLogDriver(ctx context.Context, cfg *logging.Config, ready func() error, o logDriverOptions, errOut io.Writer) error {
	return containerlog.RunDriver(ctx, cfg.Stdout, cfg.Stderr, ready, containerlog.DriverOptions{
		Path: o.path, MaxSize: o.maxSize, MaxFiles: o.maxFiles, DrainGrace: o.drainGrace, Stdin: o.stdin,
	}, errOut)
}
