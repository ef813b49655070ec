package main

import "github.com/spf13/cobra"

func newDaemonCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "daemon", Short: "not yet implemented"}
}
