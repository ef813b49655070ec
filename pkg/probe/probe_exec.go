package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// Execer runs a command in a container; pkg/runtime's Runtime satisfies it.
// It kills the command when timeout passes and returns with TimedOut set.
type Execer interface {
	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (runtime.ExecResult, error)
}

// execBackstop bounds an Exec beyond the probe's timeout, for a runtime
// that does not enforce it. The kubelet gives the CRI call timeout + 2m and
// takes the deadline as a timed-out probe; so do we.
const execBackstop = 2 * time.Minute

// newExecProbe returns a probe that runs cmd in the container: exit 0 is a
// success, any other exit or a timeout a failure, with the output (capped)
// as the reason. An error of the runtime is an error of the prober. An
// Exec still running backstop after the timeout counts as timed out.
func newExecProbe(exec Execer, containerID string, cmd []string, timeout, backstop time.Duration) probeFunc {
	// The kubelet's TimeoutError text (pkg/kubelet/cri/remote).
	timedOut := fmt.Sprintf("command %q timed out", strings.Join(cmd, " "))
	return func(ctx context.Context) (outcome, string, error) {
		ectx, cancel := context.WithTimeout(ctx, timeout+backstop)
		defer cancel()
		res, err := exec.Exec(ectx, containerID, cmd, timeout)
		if err != nil {
			if ctx.Err() == nil && errors.Is(ectx.Err(), context.DeadlineExceeded) {
				return outcomeFailure, timedOut, nil
			}
			return outcomeUnknown, "", fmt.Errorf("exec %q in container %s: %w", cmd, containerID, err)
		}
		if res.TimedOut {
			return outcomeFailure, timedOut, nil
		}
		out := res.Output
		if len(out) > maxOutput {
			out = out[:maxOutput]
		}
		if res.ExitCode == 0 {
			return outcomeSuccess, string(out), nil
		}
		return outcomeFailure, string(out), nil
	}
}
