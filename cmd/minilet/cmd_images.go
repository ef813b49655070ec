package main

import "github.com/spf13/cobra"

func newImagesCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "images", Short: "not yet implemented"}
}
