package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minilet/minilet/pkg/server"
)

// imagesDaemonCommands are the image commands the daemon carries out.
func imagesDaemonCommands(g *globalFlags) []*cobra.Command {
	return []*cobra.Command{
		{
			Use:   "pull IMAGE...",
			Short: "pull images with the daemon's registry credentials (as imagePullPolicy: Always)",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				client := server.NewClient(g.runDir)
				for _, ref := range args {
					msg, err := client.PullImage(cmd.Context(), ref)
					if err != nil {
						return cliError(err)
					}
					fmt.Fprintln(cmd.OutOrStdout(), msg)
				}
				return nil
			},
		},
		{
			Use:     "rm IMAGE...",
			Aliases: []string{"rmi"},
			Short:   "remove images no pod needs (by name or ID)",
			Args:    cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				client := server.NewClient(g.runDir)
				var errs []error
				for _, ref := range args {
					msg, err := client.RemoveImage(cmd.Context(), ref)
					if err != nil {
						errs = append(errs, cliError(err))
						continue
					}
					fmt.Fprintln(cmd.OutOrStdout(), msg)
				}
				return errors.Join(errs...)
			},
		},
		{
			Use:   "prune",
			Short: "remove every image no pod needs and first seen at least --minimum-image-ttl-duration ago",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				res, err := server.NewClient(g.runDir).PruneImages(cmd.Context())
				if err != nil {
					return cliError(err)
				}
				out := cmd.OutOrStdout()
				for _, ref := range res.Removed {
					fmt.Fprintln(out, "Deleted:", ref)
				}
				fmt.Fprintf(out, "Total reclaimed space: %s\n", humanBytes(res.Freed))
				return nil
			},
		},
	}
}
