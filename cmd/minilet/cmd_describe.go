package main

import "github.com/spf13/cobra"

func newDescribeCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "describe", Short: "not yet implemented"}
}
