package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/server"
)

func newCordonCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cordon [NODE]",
		Short: "mark the node unschedulable: new or changed manifests are not started",
		Long: `Mark the node unschedulable, like kubectl cordon. Pods that run keep
running; new or changed manifests wait until "minilet uncordon". The state
survives a daemon restart.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCordon(cmd, g, args, true) },
	}
}

func newUncordonCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "uncordon [NODE]",
		Short: "mark the node schedulable again; drained pods come back",
		Args:  cobra.MaximumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runCordon(cmd, g, args, false) },
	}
}

// runCordon cordons or uncordons the node, and says so as kubectl does:
// "node/NAME cordoned", or "node/NAME already cordoned" when there was
// nothing to do.
func runCordon(cmd *cobra.Command, g *globalFlags, args []string, cordon bool) error {
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	n, err := fetchNode(ctx, client, args)
	if err != nil {
		return err
	}
	verb := "uncordoned"
	if cordon {
		verb = "cordoned"
	}
	out := cmd.OutOrStdout()
	if n.Spec.Unschedulable == cordon {
		fmt.Fprintf(out, "node/%s already %s\n", n.Name, verb)
		return nil
	}
	if err := client.Cordon(ctx, cordon); err != nil {
		return cliError(err)
	}
	fmt.Fprintf(out, "node/%s %s\n", n.Name, verb)
	return nil
}

// drainFlags are the flags of `minilet drain`.
type drainFlags struct {
	gracePeriod int64
	timeout     time.Duration
}

func newDrainCommand(g *globalFlags) *cobra.Command {
	f := &drainFlags{}
	cmd := &cobra.Command{
		Use:   "drain [NODE]",
		Short: "cordon the node, then stop every pod gracefully",
		Long: `Cordon the node, then stop every pod gracefully, like kubectl drain; it
returns when they have stopped. "minilet uncordon" brings them back.`,
		Example: `  minilet drain
  minilet drain --grace-period 10 --timeout 2m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDrain(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.Int64Var(&f.gracePeriod, "grace-period", -1, "seconds each pod is given to stop; negative uses each pod's own terminationGracePeriodSeconds")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long to wait before giving up; zero means forever")
	return cmd
}

func runDrain(cmd *cobra.Command, g *globalFlags, f *drainFlags, args []string) error {
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	n, err := fetchNode(ctx, client, args)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if n.Spec.Unschedulable {
		fmt.Fprintf(out, "node/%s already cordoned\n", n.Name)
	} else {
		if err := client.Cordon(ctx, true); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "node/%s cordoned\n", n.Name)
	}
	list, err := client.ListPods(ctx, "")
	if err != nil {
		return cliError(err)
	}
	evicting := podsToEvict(list.Items)
	for _, p := range evicting {
		fmt.Fprintf(out, "evicting pod %s/%s\n", p.Namespace, p.Name)
	}
	if err := drain(ctx, client, f); err != nil {
		return err
	}
	for _, p := range evicting {
		fmt.Fprintf(out, "pod/%s evicted\n", p.Name)
	}
	fmt.Fprintf(out, "node/%s drained\n", n.Name)
	return nil
}

func drain(ctx context.Context, client *server.Client, f *drainFlags) error {
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	var grace *int64
	if f.gracePeriod >= 0 {
		grace = &f.gracePeriod
	}
	err := client.Drain(ctx, grace)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("drain did not complete within %s", f.timeout)
	}
	return cliError(err)
}

// podsToEvict are the pods a drain stops: those neither finished nor
// already being deleted.
func podsToEvict(pods []v1.Pod) []v1.Pod {
	var out []v1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed {
			continue
		}
		out = append(out, p)
	}
	return out
}
