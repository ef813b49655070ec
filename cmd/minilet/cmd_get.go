package main

import "github.com/spf13/cobra"

func newGetCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "get", Short: "not yet implemented"}
}
