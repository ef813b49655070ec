package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/server"
)

// defaultContainerAnnotation names the container kubectl picks when none
// is given.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// logsFlags are the flags of `minilet logs`.
type logsFlags struct {
	namespace  string
	container  string
	follow     bool
	previous   bool
	timestamps bool
	tail       int
	since      time.Duration
	sinceTime  string
}

func newLogsCommand(g *globalFlags) *cobra.Command {
	f := &logsFlags{}
	cmd := &cobra.Command{
		Use:   "logs [-f] [-p] (POD | pod/NAME) [-c CONTAINER]",
		Short: "print the logs of a container in a pod, like kubectl logs",
		Long: `Print the logs of a container in a pod, from the files the daemon keeps
under --pod-log-dir. Without -c, the pod's kubectl.kubernetes.io/default-container
annotation or its first container is used.`,
		Example: `  minilet logs web
  minilet logs web -c sidecar --tail 20 --timestamps
  minilet logs -f pod/web -n kube-system
  minilet logs web --previous`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return runLogs(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.namespace, "namespace", "n", "default", "namespace of the pod")
	fl.StringVarP(&f.container, "container", "c", "", "print the logs of this container")
	fl.BoolVarP(&f.follow, "follow", "f", false, "stream the logs as they are written")
	fl.BoolVarP(&f.previous, "previous", "p", false, "print the logs of the previous instance of the container")
	fl.BoolVar(&f.timestamps, "timestamps", false, "start each line with its timestamp")
	fl.IntVar(&f.tail, "tail", -1, "lines of recent log to print; -1 prints all")
	fl.DurationVar(&f.since, "since", 0, "only lines newer than a relative duration like 5s, 2m or 3h")
	fl.StringVar(&f.sinceTime, "since-time", "", "only lines after an RFC3339 time")
	return cmd
}

func runLogs(cmd *cobra.Command, g *globalFlags, f *logsFlags, args []string) error {
	name, err := logsPodArg(args[0])
	if err != nil {
		return err
	}
	container := f.container
	if len(args) == 2 {
		if container != "" {
			return errors.New("only one of -c or an inline [CONTAINER] arg is allowed")
		}
		container = args[1]
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	pod, err := client.GetPod(ctx, f.namespace, name)
	if err != nil {
		return cliError(err)
	}
	if opts.Container, err = logsContainer(pod, container, cmd.ErrOrStderr()); err != nil {
		return err
	}
	return cliError(client.Logs(ctx, f.namespace, name, opts, cmd.OutOrStdout()))
}

// logsPodArg returns the pod named by POD or pod/NAME.
func logsPodArg(arg string) (string, error) {
	typ, name, ok := strings.Cut(arg, "/")
	if !ok {
		return arg, nil
	}
	if !isPodResource(typ) {
		return "", unknownResource(typ)
	}
	if name == "" {
		return "", fmt.Errorf("arguments in resource/name form must have a single resource and name: %q", arg)
	}
	return name, nil
}

func (f *logsFlags) options() (server.LogOptions, error) {
	opts := server.LogOptions{
		Previous:   f.previous,
		Follow:     f.follow,
		Timestamps: f.timestamps,
		TailLines:  f.tail,
	}
	if f.tail < -1 {
		return opts, fmt.Errorf("--tail must be greater than or equal to -1")
	}
	if f.since != 0 && f.sinceTime != "" {
		return opts, errors.New("at most one of `sinceTime` or `sinceSeconds` may be specified")
	}
	if f.since < 0 {
		return opts, errors.New("--since must be greater than 0")
	}
	if f.since > 0 {
		opts.SinceSeconds = int64(math.Ceil(f.since.Seconds()))
	}
	if f.sinceTime != "" {
		t, err := time.Parse(time.RFC3339, f.sinceTime)
		if err != nil {
			return opts, fmt.Errorf("--since-time only accepts times matching RFC3339, eg '2006-01-02T15:04:05Z': %q", f.sinceTime)
		}
		opts.SinceTime = t
	}
	return opts, nil
}

// logsContainer picks the container as kubectl does: the one named, else
// the pod's default-container annotation, else its first container, saying
// so on w when there was a choice.
func logsContainer(pod *v1.Pod, name string, w io.Writer) (string, error) {
	if name != "" {
		if !hasContainer(pod, name) {
			return "", fmt.Errorf("container %s is not valid for pod %s", name, pod.Name)
		}
		return name, nil
	}
	if d := pod.Annotations[defaultContainerAnnotation]; d != "" {
		if hasContainer(pod, d) {
			return d, nil
		}
		fmt.Fprintf(w, "Default container name %q not found in pod %s\n", d, pod.Name)
	}
	if len(pod.Spec.Containers) == 0 {
		return "", fmt.Errorf("pod %s/%s does not have any containers", pod.Namespace, pod.Name)
	}
	first := pod.Spec.Containers[0].Name
	if len(pod.Spec.Containers) > 1 || len(pod.Spec.InitContainers) > 0 || len(pod.Spec.EphemeralContainers) > 0 {
		fmt.Fprintf(w, "Defaulted container %q out of: %s\n", first, allContainerNames(pod))
	}
	return first, nil
}

func hasContainer(pod *v1.Pod, name string) bool {
	for _, list := range [][]v1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == name {
				return true
			}
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// allContainerNames lists the pod's containers as kubectl does: regular,
// then ephemeral, then init ones.
func allContainerNames(pod *v1.Pod) string {
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name+" (ephem)")
	}
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name+" (init)")
	}
	return strings.Join(names, ", ")
}
