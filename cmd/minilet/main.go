// Command minilet is a single-host pod agent: it turns Kubernetes Pod
// manifests in a directory into pods running in containerd.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// globalFlags are shared by every subcommand.
type globalFlags struct {
	runDir string // where the daemon's API socket lives
}

func main() {
	silenceKlog()
	if err := newRootCommand().Execute(); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			if !ec.quiet {
				fmt.Fprintln(os.Stderr, ec.msg)
			}
			os.Exit(ec.code)
		}
		// Errors kubectl prints as they are ("Error from server
		// (NotFound): ...") keep that shape.
		var ks interface{ kubectlStyle() }
		if errors.As(err, &ks) {
			fmt.Fprintln(os.Stderr, err)
		} else {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "minilet",
		Short:         "minilet runs Kubernetes Pod manifests on one host through containerd",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	defRun := "/run/minilet"
	if v := os.Getenv("MINILET_RUN_DIR"); v != "" {
		defRun = v
	}
	root.PersistentFlags().StringVar(&g.runDir, "run-dir", defRun, "directory holding the daemon's API socket (env MINILET_RUN_DIR)")
	root.AddCommand(
		newVersionCommand(),
		newDaemonCommand(g),
		newGetCommand(g),
		newDescribeCommand(g),
		newImagesCommand(g),
		newLogsCommand(g),
		newExecCommand(g),
		newAttachCommand(g),
		newDebugCommand(g),
		newRestartCommand(g),
		newLabelCommand(g),
		newTaintCommand(g),
		newResetCommand(g),
		newLogDriverCommand(g),
		newNodeCommand(g),
		newCordonCommand(g),
		newUncordonCommand(g),
		newDrainCommand(g),
		newVolumesCommand(g),
		newRolloutCommand(g),
		newCreateCommand(g),
	)
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print minilet's version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "minilet", version)
		},
	}
}
