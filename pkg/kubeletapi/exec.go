package kubeletapi

import (
	"context"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/server"
)

// executor runs commands for the kubelet's stream code
// (remotecommand.Executor): the container argument is the runtime ID.
type executor struct{ rt server.Executor }

func (e executor) ExecInContainer(ctx context.Context, _ string, _ types.UID, id string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	streams := runtime.ExecStreams{TTY: tty}
	// Typed nils must stay nil: the runtime gives no stdin to a nil one.
	if in != nil {
		streams.Stdin = in
	}
	if out != nil {
		streams.Stdout = out
	}
	if errOut != nil {
		streams.Stderr = errOut
	}
	streams.Resize = terminalSizes(ctx, resize)
	code, err := e.rt.ExecStream(ctx, id, cmd, streams)
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: int(code)}
	}
	return nil
}

// terminalSizes passes the client's terminal sizes on in the runtime's
// type until resize closes or ctx ends; nil for a nil resize.
func terminalSizes(ctx context.Context, resize <-chan remotecommand.TerminalSize) <-chan runtime.TerminalSize {
	if resize == nil {
		return nil
	}
	sizes := make(chan runtime.TerminalSize, 1)
	go func() {
		defer close(sizes)
		for s := range resize {
			select {
			case sizes <- runtime.TerminalSize{Width: s.Width, Height: s.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return sizes
}
