package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minilet/minilet/pkg/server"
)

func newRestartCommand(g *globalFlags) *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:   "restart (pod NAME... | pod/NAME...)",
		Short: "stop and start every container of a pod in place",
		Long: `Stop every container of a pod (with its grace period and preStop hooks)
and start them again in the same sandbox: same UID, same IP, init
containers first as at the pod's start. Each container's restartCount goes
up by one and its lastState reads reason Restarted. The request is recorded
before the command returns, so a daemon restarted meanwhile carries it out.
A finished pod (Succeeded or Failed) is not run again: change its manifest.
kubectl has no such command (kubernetes#128524); there one deletes the pod.`,
		Example: `  minilet restart pod web
  minilet restart pod/web pod/db -n shop`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := restartTargets(args)
			if err != nil {
				return err
			}
			client := server.NewClient(g.runDir)
			var errs []error
			for _, name := range names {
				msg, err := client.RestartPod(cmd.Context(), namespace, name)
				if err != nil {
					errs = append(errs, cliError(err))
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of the pods")
	return cmd
}

// restartTargets reads "pod NAME..." or "pod/NAME...".
func restartTargets(args []string) ([]string, error) {
	if !strings.Contains(args[0], "/") {
		if !isPodResource(args[0]) {
			return nil, fmt.Errorf("restart works on pods: `minilet restart pod NAME`; for a Deployment, StatefulSet or DaemonSet use `minilet rollout restart`, got %q", args[0])
		}
		if len(args) < 2 {
			return nil, errors.New("name the pod to restart: `minilet restart pod NAME`")
		}
		return args[1:], nil
	}
	var names []string
	for _, a := range args {
		typ, name, ok := strings.Cut(a, "/")
		if !ok || name == "" {
			return nil, fmt.Errorf("arguments in resource/name form must have a single resource and name: %q", a)
		}
		if !isPodResource(typ) {
			return nil, fmt.Errorf("restart works on pods: use `minilet rollout restart %s` for other kinds", a)
		}
		names = append(names, name)
	}
	return names, nil
}
