package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/minilet/minilet/pkg/server"
)

// debugFlags are the flags of `minilet debug`, kubectl debug's for an
// ephemeral container.
type debugFlags struct {
	namespace string
	image     string
	container string
	target    string
	pull      string
	stdin     bool
	tty       bool
	argsOnly  bool
	quiet     bool
}

func newDebugCommand(g *globalFlags) *cobra.Command {
	f := &debugFlags{}
	cmd := &cobra.Command{
		Use:   "debug (POD | pod/NAME) --image=IMAGE [--target=CONTAINER] [-c NAME] [-it] [-- COMMAND [args...]]",
		Short: "add an ephemeral container to a running pod, like kubectl debug",
		Long: `Add an ephemeral container to a running pod, as kubectl debug does through
the pod's ephemeralcontainers subresource: it joins the pod's network, IPC
and UTS namespaces, and with --target the PID namespace of that container,
so its processes are visible (ps, /proc/<pid>/root). It runs once and is
never restarted; it shows under ephemeralContainerStatuses, its output in
minilet logs POD -c NAME, and minilet exec works in it while it runs.
With -i (and -t), the command waits for it to run and attaches to it.`,
		Example: `  minilet debug web --image=busybox --target=app -- ps
  minilet logs web -c debugger-x7k2p
  minilet debug web -it --image=busybox --target=app`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d := cmd.ArgsLenAtDash(); d > 1 || (d < 0 && len(args) > 1) {
				return errors.New("debug POD [COMMAND] is not supported: use debug POD -- COMMAND")
			}
			return runDebug(cmd, g, f, args[0], args[1:])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.namespace, "namespace", "n", "default", "namespace of the pod")
	fl.StringVar(&f.image, "image", "", "image of the debug container (required)")
	fl.StringVarP(&f.container, "container", "c", "", "name of the debug container (default: debugger-<random>)")
	fl.StringVar(&f.target, "target", "", "container whose PID namespace the debug container joins")
	fl.StringVar(&f.pull, "image-pull-policy", "", "Always, IfNotPresent or Never (default: the API server's for the image)")
	fl.BoolVarP(&f.stdin, "stdin", "i", false, "keep stdin open on the container and attach to it")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a TTY for the container")
	fl.BoolVar(&f.argsOnly, "arguments-only", false, "the arguments after -- are args for the image's entrypoint, not a command")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but what the container writes")
	return cmd
}

func runDebug(cmd *cobra.Command, g *globalFlags, f *debugFlags, podArg string, command []string) error {
	if f.image == "" {
		return errors.New("--image is required: the image of the debug container")
	}
	if f.tty && !f.stdin {
		return errors.New("-t needs -i: a TTY without input cannot be used")
	}
	name, err := logsPodArg(podArg)
	if err != nil {
		return err
	}
	client := server.NewClient(g.runDir)
	ctx := cmd.Context()
	pod, err := client.GetPod(ctx, f.namespace, name)
	if err != nil {
		return cliError(err)
	}
	ec := v1.EphemeralContainer{
		EphemeralContainerCommon: v1.EphemeralContainerCommon{
			Name: f.container, Image: f.image, ImagePullPolicy: v1.PullPolicy(f.pull),
			Stdin: f.stdin, TTY: f.tty, TerminationMessagePolicy: v1.TerminationMessageReadFile,
		},
		TargetContainerName: f.target,
	}
	if ec.Name == "" {
		ec.Name = "debugger-" + rand.String(5)
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "Defaulting debug container name to %s.\n", ec.Name)
		}
	}
	if hasContainer(pod, ec.Name) {
		// A strategic merge patch would merge into the existing one.
		return fmt.Errorf("a container named %q already exists in pod %s: choose another name with -c", ec.Name, pod.Name)
	}
	if len(command) > 0 {
		if f.argsOnly {
			ec.Args = command
		} else {
			ec.Command = command
		}
	}
	patch, err := ephemeralPatch(pod, ec)
	if err != nil {
		return err
	}
	if _, err := client.PatchEphemeralContainers(ctx, f.namespace, name, patch); err != nil {
		return cliError(err)
	}
	if !f.stdin {
		return nil
	}
	if err := waitEphemeralRunning(cmd, client, f.namespace, name, ec.Name); err != nil {
		return err
	}
	return runStream(cmd, g, &streamFlags{namespace: f.namespace, container: ec.Name, stdin: true, tty: f.tty, quiet: f.quiet}, name, nil)
}

// ephemeralPatch is kubectl debug's request: a strategic merge patch from
// the pod to the pod with ec added.
func ephemeralPatch(pod *v1.Pod, ec v1.EphemeralContainer) ([]byte, error) {
	with := pod.DeepCopy()
	with.Spec.EphemeralContainers = append(slices.Clone(pod.Spec.EphemeralContainers), ec)
	a, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(with)
	if err != nil {
		return nil, err
	}
	return strategicpatch.CreateTwoWayMergePatch(a, b, v1.Pod{})
}

// errRunning stops the watch of waitEphemeralRunning.
var errRunning = errors.New("running")

// waitEphemeralRunning watches the pod until its ephemeral container name
// runs; it fails if the container ends or cannot start.
func waitEphemeralRunning(cmd *cobra.Command, client *server.Client, namespace, pod, name string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), debugStartTimeout)
	defer cancel()
	err := client.WatchPods(ctx, namespace, pod, func(_ string, p *v1.Pod) error {
		for _, cs := range p.Status.EphemeralContainerStatuses {
			if cs.Name != name {
				continue
			}
			switch {
			case cs.State.Running != nil:
				return errRunning
			case cs.State.Terminated != nil:
				return fmt.Errorf("the debug container %s ended (exit code %d) before it could be attached to; see minilet logs %s -c %s",
					name, cs.State.Terminated.ExitCode, pod, name)
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "ContainerCreating":
				return fmt.Errorf("the debug container %s cannot start: %s: %s", name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errRunning):
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the debug container %s did not start within %v", name, debugStartTimeout)
	}
	return cliError(err)
}

// debugStartTimeout bounds the wait for the debug container to run (an
// image pull included), as kubectl debug's --pod-running-timeout.
const debugStartTimeout = time.Minute
