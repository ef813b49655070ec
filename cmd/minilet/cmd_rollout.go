package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/server"
)

func newRolloutCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout status|restart KIND/NAME",
		Short: "follow or restart a rollout, like kubectl rollout",
	}
	var restartNS string
	restart := &cobra.Command{
		Use:   "restart deployment|statefulset|daemonset/NAME",
		Short: "roll a workload's pods out again, like kubectl rollout restart",
		Long: `Replace a Deployment's, StatefulSet's or DaemonSet's pods by a rollout, as
kubectl rollout restart does: its pod template gets the annotation
kubectl.kubernetes.io/restartedAt. The manifest file is not changed: the
restart is recorded in minilet's state directory and survives restarts.`,
		Example: `  minilet rollout restart deploy/web
  minilet rollout restart sts/db`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, ok := strings.Cut(args[0], "/")
			k, known := objectResource(kind)
			if !ok || name == "" || !known || (k != kindDeploy && k != kindSTS && k != kindDS) {
				return fmt.Errorf("name a deployment, statefulset or daemonset: KIND/NAME, not %q", args[0])
			}
			msg, err := server.NewClient(g.runDir).Restart(cmd.Context(), string(k), restartNS, name)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	restart.Flags().StringVarP(&restartNS, "namespace", "n", "default", "namespace of the workload")
	cmd.AddCommand(restart)
	var (
		namespace string
		watch     bool
		timeout   time.Duration
	)
	status := &cobra.Command{
		Use:   "status deployment/NAME",
		Short: "wait until a Deployment's rollout is done, like kubectl rollout status",
		Long: `Print the progress of a Deployment's rollout until it is done (exit 0), or
until its progress deadline passes (exit 1), as kubectl rollout status does.`,
		Example: `  minilet rollout status deploy/web
  minilet rollout status deployment web --timeout 2m`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return rolloutStatus(ctx, server.NewClient(g.runDir), namespace, name, watch, cmd.OutOrStdout())
		},
	}
	status.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of the Deployment")
	status.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout is done")
	status.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: never)")
	cmd.AddCommand(status)
	return cmd
}

// deploymentArg reads deployment/NAME, deploy/NAME or "deployment NAME".
func deploymentArg(args []string) (string, error) {
	kind, name, ok := strings.Cut(args[0], "/")
	if !ok {
		if len(args) != 2 {
			return "", errors.New("name the Deployment: deployment/NAME")
		}
		kind, name = args[0], args[1]
	} else if len(args) != 1 {
		return "", errors.New("name one Deployment: deployment/NAME")
	}
	if k, known := objectResource(kind); !known || k != kindDeploy {
		return "", fmt.Errorf("no status viewer has been implemented for %s: minilet follows Deployments", kind)
	}
	return name, nil
}

// rolloutStatus prints kubectl's rollout messages until the rollout is
// done or has exceeded its deadline.
func rolloutStatus(ctx context.Context, c *server.Client, ns, name string, watch bool, out io.Writer) error {
	last := ""
	for {
		list, err := c.Deployments(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		var d *appsv1.Deployment
		for i := range list.Items {
			if list.Items[i].Name == name {
				d = &list.Items[i]
			}
		}
		if d == nil {
			return fmt.Errorf("Error from server (NotFound): deployments.apps %q not found", name)
		}
		msg, done, err := rolloutMessage(d)
		if err != nil {
			return err
		}
		if msg != last {
			fmt.Fprintln(out, msg)
			last = msg
		}
		if done || !watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("timed out waiting for the condition")
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// rolloutMessage is kubectl's DeploymentStatusViewer.
func rolloutMessage(d *appsv1.Deployment) (string, bool, error) {
	s := d.Status
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == v1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
		}
	}
	want := *d.Spec.Replicas
	switch {
	case s.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, s.UpdatedReplicas, want), false, nil
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, s.Replicas-s.UpdatedReplicas), false, nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, s.AvailableReplicas, s.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}
