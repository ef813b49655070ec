package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/minilet/minilet/pkg/pod"
	"github.com/minilet/minilet/pkg/server"
)

func newResetCommand(g *globalFlags) *cobra.Command {
	f := &daemonFlags{}
	var images, volumes bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "take this host out of service: stop every pod and remove what minilet made",
		Long: `Take this host out of service, as kubeadm reset does for a kubelet. The daemon
must be stopped first. reset adopts the pods the daemon left and stops them
gracefully (preStop hooks, grace periods), removing their containers,
snapshots, network namespaces and IP allocations (CNI DEL, which takes their
iptables rules), mounts, cgroups and logs; then what minilet made for the
node: leftover containers and snapshots, its containerd namespace, the CNI
bridge and the default network config it wrote, its cgroup, and the run
and root directories. Claims' data and images are kept unless --volumes and
--images. It takes the daemon's flags, to find what the daemon made where it
made it, and prints what it removed.`,
		Example: `  systemctl stop minilet && minilet reset
  minilet reset --images --volumes --root-dir /srv/minilet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("log-level") {
				f.logLevel = "warn"
			}
			return runReset(cmd.Context(), g, f, resetOptions{images: images, volumes: volumes}, cmd.OutOrStdout())
		},
	}
	addDaemonFlags(cmd.Flags(), f)
	cmd.Flags().BoolVar(&images, "images", false, "also remove every image in minilet's containerd namespace (the pause image too)")
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove the data of PersistentVolumeClaims (--volume-dir)")
	return cmd
}

type resetOptions struct{ images, volumes bool }

func runReset(ctx context.Context, g *globalFlags, f *daemonFlags, o resetOptions, out io.Writer) error {
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := server.NewClient(g.runDir).Health(hctx)
	cancel()
	if err == nil {
		return fmt.Errorf("the minilet daemon answers on %s: stop it first (systemctl stop minilet), then reset", server.SocketPath(g.runDir))
	}
	run := &resetRun{out: out}
	if err := runDaemon(ctx, g, f, run); err != nil {
		return err
	}
	if !run.done {
		return errors.New("reset interrupted before every pod was stopped; run it again")
	}
	return resetHost(ctx, g, f, o, out)
}

// resetRun is the daemon's run for reset: it says which pods it stops,
// and ends the run once none is left.
type resetRun struct {
	out  io.Writer
	done bool
}

// waitForNoPods prints the pods being stopped, waits until the pod
// manager has none, prints them as removed and stops the run.
func (r *resetRun) waitForNoPods(ctx context.Context, mgr *pod.Manager, stop func()) {
	var names []string
	for _, p := range mgr.Pods() {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(r.out, "stopping pod %s\n", n)
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for len(mgr.Pods()) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	for _, n := range names {
		fmt.Fprintf(r.out, "removed pod %s (containers, snapshots, network, mounts, cgroup, logs)\n", n)
	}
	r.done = true
	stop()
}
