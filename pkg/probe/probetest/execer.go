package probetest

import (
	"context"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// ExecFunc is a probe.Execer made of a function.
type ExecFunc func(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (runtime.ExecResult, error)

// Exec calls f.
func (f ExecFunc) Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	return f(ctx, containerID, cmd, timeout)
}
