package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minilet/minilet/pkg/server"
)

func newCreateCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create job NAME --from=cronjob/NAME",
		Short: "run a CronJob's Job now, like kubectl create job --from",
	}
	var namespace, from string
	job := &cobra.Command{
		Use:   "job NAME --from=cronjob/NAME",
		Short: "run a Job of a CronJob now, like kubectl create job --from=cronjob/NAME",
		Long: `Make a Job from a CronJob's jobTemplate now, whatever its schedule, as
kubectl create job --from=cronjob/NAME does. Jobs of other origins live in
manifest files: write one to /etc/minilet instead.`,
		Example: `  minilet create job backup-now --from=cronjob/backup`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, cj, ok := strings.Cut(from, "/")
			if !ok || cj == "" {
				return errors.New("--from must be cronjob/NAME")
			}
			if k, known := objectResource(kind); !known || k != kindCJ {
				return fmt.Errorf("from must be an existing cronjob: %s", from)
			}
			msg, err := server.NewClient(g.runDir).CreateJobFromCronJob(cmd.Context(), namespace, cj, args[0])
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	job.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of the CronJob")
	job.Flags().StringVar(&from, "from", "", "the CronJob to run: cronjob/NAME")
	_ = job.MarkFlagRequired("from")
	cmd.AddCommand(job)
	return cmd
}
