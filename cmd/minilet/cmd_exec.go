package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minilet/minilet/pkg/server"
)

// streamFlags are the flags of `minilet exec` and `minilet attach`.
type streamFlags struct {
	namespace string
	container string
	stdin     bool
	tty       bool
	quiet     bool
}

func (f *streamFlags) add(cmd *cobra.Command, what string) {
	fl := cmd.Flags()
	fl.StringVarP(&f.namespace, "namespace", "n", "default", "namespace of the pod")
	fl.StringVarP(&f.container, "container", "c", "", what+"; default: the pod's kubectl.kubernetes.io/default-container annotation, else its first container")
	fl.BoolVarP(&f.stdin, "stdin", "i", false, "pass stdin to the container")
	fl.BoolVarP(&f.tty, "tty", "t", false, "stdin is a TTY")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only what the container writes")
}

func newExecCommand(g *globalFlags) *cobra.Command {
	f := &streamFlags{}
	cmd := &cobra.Command{
		Use:   "exec (POD | pod/NAME) [-c CONTAINER] [-i] [-t] -- COMMAND [args...]",
		Short: "run a command in a container, like kubectl exec",
		Long: `Run a command in a running container of a pod, over the daemon's socket in
Kubernetes' streaming protocol (WebSocket v5.channel.k8s.io, as kubectl exec
speaks it). The exit code is the command's. Unlike the kubelet, minilet ends
the command (and what it started) when the client goes away.`,
		Example: `  minilet exec web -- date
  minilet exec -it web -c sidecar -- sh
  echo hello | minilet exec -i web -- cat`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash != 1 || len(args) < 2 {
				return errors.New("exec [POD] [COMMAND] is not supported: use exec [POD] -- [COMMAND]")
			}
			return runStream(cmd, g, f, args[0], args[1:])
		},
	}
	f.add(cmd, "the container to run the command in")
	return cmd
}

func newAttachCommand(g *globalFlags) *cobra.Command {
	f := &streamFlags{}
	cmd := &cobra.Command{
		Use:   "attach (POD | pod/NAME) [-c CONTAINER]",
		Short: "attach to a running container, like kubectl attach",
		Long: `Stream the stdout and stderr of a running container from now on, until it
stops (or Ctrl-C). With -i (and -t), what you type goes to the container's
terminal: the container must have been made with stdin: true and tty: true
(as minilet debug -it makes its container). Its stdin stays open after you
leave, unless the container has stdinOnce: true; minilet may restart
meanwhile.`,
		Example: `  minilet attach web
  minilet attach web -c sidecar
  minilet attach -it shell`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runStream(cmd, g, f, args[0], nil) },
	}
	f.add(cmd, "the container to attach to")
	return cmd
}

// runStream runs exec (command given) or attach.
func runStream(cmd *cobra.Command, g *globalFlags, f *streamFlags, podArg string, command []string) error {
	name, err := logsPodArg(podArg)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	pod, err := client.GetPod(ctx, f.namespace, name)
	if err != nil {
		return cliError(err)
	}
	notes := cmd.ErrOrStderr()
	if f.quiet {
		notes = io.Discard
	}
	opts := server.StreamOptions{Command: command, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
	if opts.Container, err = logsContainer(pod, f.container, notes); err != nil {
		return err
	}
	if f.stdin {
		opts.Stdin = cmd.InOrStdin()
	}
	restore, err := setupTTY(ctx, f, &opts, notes)
	if err != nil {
		return err
	}
	if command == nil {
		if opts.Stdin != nil {
			fmt.Fprintln(notes, "If you don't see a command prompt, try pressing enter.")
		}
		err = client.Attach(ctx, f.namespace, name, opts)
	} else {
		err = client.Exec(ctx, f.namespace, name, opts)
	}
	restore()
	var exit *server.ExitError
	if errors.As(err, &exit) {
		return exitCode{code: exit.Code, msg: exit.Error(), quiet: f.quiet}
	}
	return cliError(err)
}

// setupTTY asks for a terminal as kubectl does: only with -i, and only when
// stdin is one; then stdin goes raw and the terminal's size follows the
// user's window.
func setupTTY(ctx context.Context, f *streamFlags, opts *server.StreamOptions, notes io.Writer) (func(), error) {
	if !f.tty || !f.stdin {
		return func() {}, nil
	}
	in, ok := opts.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		fmt.Fprintln(notes, "Unable to use a TTY - input is not a terminal or the right kind of file")
		return func() {}, nil
	}
	restore, err := rawTerminal(int(in.Fd()))
	if err != nil {
		return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	opts.TTY = true
	sizeFd := int(in.Fd())
	if out, ok := opts.Stdout.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		sizeFd = int(out.Fd())
	}
	sctx, cancel := context.WithCancel(ctx)
	opts.Sizes = watchTerminalSize(sctx, sizeFd)
	return func() { cancel(); restore() }, nil
}

// exitCode makes minilet exit with a command's exit code, saying so on
// stderr as kubectl does.
type exitCode struct {
	code  int
	msg   string
	quiet bool
}

func (e exitCode) Error() string { return e.msg }
