package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// imagesFlags say which containerd to talk to (the daemon's defaults).
type imagesFlags struct {
	address   string
	namespace string
}

func newImagesCommand(g *globalFlags) *cobra.Command {
	f := &imagesFlags{}
	cmd := &cobra.Command{
		Use:   "images",
		Short: "list, import, pull, remove and prune images in minilet's containerd namespace",
		Long: `ls and import talk to containerd directly (the daemon need not run); pull,
rm and prune go through the daemon, so that pulls use its registry
credentials and removals know which images pods need (an image a pod names
or a container uses is never removed, nor the pause image).`,
	}
	cmd.AddCommand(imagesDaemonCommands(g)...)
	cmd.PersistentFlags().StringVar(&f.address, "containerd-address", "/run/containerd/containerd.sock", "containerd's socket")
	cmd.PersistentFlags().StringVar(&f.namespace, "containerd-namespace", "minilet", "containerd namespace of minilet's images")
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE.tar...",
		Short: "import OCI or docker image archives (digests are checked)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := f.connect()
			if err != nil {
				return err
			}
			defer rt.Close()
			for _, path := range args {
				if err := importFile(cmd.Context(), rt, path, cmd); err != nil {
					return err
				}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "list images",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := f.connect()
			if err != nil {
				return err
			}
			defer rt.Close()
			imgs, err := rt.ListImages(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tDIGEST\tSIZE")
			for _, im := range imgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", im.Ref, shortDigest(im.Digest), humanBytes(im.Size))
			}
			return tw.Flush()
		},
	})
	return cmd
}

func (f *imagesFlags) connect() (*rtcontainerd.Runtime, error) {
	return rtcontainerd.New(rtcontainerd.Options{Address: f.address, Namespace: f.namespace}, zap.NewNop())
}

func importFile(ctx context.Context, rt *rtcontainerd.Runtime, path string, cmd *cobra.Command) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	imgs, err := rt.ImportImages(ctx, fh)
	for _, im := range imgs {
		fmt.Fprintf(cmd.OutOrStdout(), "imported %s (%s)\n", im.Ref, shortDigest(im.Digest))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
