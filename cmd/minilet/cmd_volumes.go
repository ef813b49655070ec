package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/minilet/minilet/pkg/claims"
	"github.com/minilet/minilet/pkg/server"
)

func newVolumesCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volumes",
		Short: "list and remove the data of PersistentVolumeClaims on this host",
		Long: `A PersistentVolumeClaim in the manifest directory is a directory on this host,
made by the first pod that mounts it. Its data outlives pods, manifest edits,
daemon restarts and the claim's own document: only 'minilet volumes rm'
deletes it.`,
	}
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "list the claims: their data, size and the pods that mount them",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vols, err := server.NewClient(g.runDir).Volumes(cmd.Context())
			if err != nil {
				return cliError(err)
			}
			return printVolumes(cmd.OutOrStdout(), vols)
		},
	}
	var namespace string
	rm := &cobra.Command{
		Use:   "rm NAME...",
		Short: "delete the data of claims no pod mounts",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := server.NewClient(g.runDir)
			for _, name := range args {
				if err := c.RemoveVolume(cmd.Context(), namespace, name); err != nil {
					return cliError(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "volume %s/%s removed\n", namespace, name)
			}
			return nil
		},
	}
	rm.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of the claims")
	cmd.AddCommand(ls, rm)
	return cmd
}

func printVolumes(w io.Writer, vols []claims.Volume) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tCLAIM\tREQUEST\tUSED\tACCESS MODES\tPODS\tPATH")
	for _, v := range vols {
		claim := "yes"
		if !v.Claim {
			claim = "removed"
		}
		used := "-"
		switch {
		case !v.Made:
			used = "<not made>"
		case v.Bytes >= 0:
			used = resource.NewQuantity(v.Bytes, resource.BinarySI).String()
		}
		req := v.Request
		if req == "" {
			req = "-"
		} else if !v.Enforced {
			req += " (not enforced)"
		}
		pods := strings.Join(v.Pods, ",")
		if pods == "" {
			pods = "<none>"
		}
		modes := strings.Join(v.AccessModes, ",")
		if modes == "" {
			modes = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Namespace, v.Name, claim, req, used, modes, pods, v.Path)
	}
	return tw.Flush()
}
