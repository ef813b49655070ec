// Command minilet-log-driver is the logging binary containerd's shim runs
// for each of minilet's containers: it writes the container's stdout (fd 3)
// and stderr (fd 4) to a CRI log file, rotated by size, and tells the shim
// it is ready by closing fd 5. It is a separate, small program (the
// standard library and minilet's containerlog only), so each container
// costs about 1 MiB of memory for its logs rather than a whole minilet.
//
// The shim passes the arguments made by containerlog.DriverArgs, as key,
// value pairs in no fixed order:
//
//	minilet-log-driver log-driver /var/log/pods/ns_web_uid/app/0.log --max-size 10485760 --max-files 5
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/containerd/runtime/v2/logging"

	"github.com/minilet/minilet/pkg/containerlog"
)

func main() {
	opts, err := containerlog.ParseDriverArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Run exits the process when the driver returns.
	logging.Run(func(ctx context.Context, cfg *logging.Config, ready func() error) error {
		return containerlog.RunDriver(ctx, cfg.Stdout, cfg.Stderr, ready, opts, os.Stderr)
	})
}
