package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

type execFunc func(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error)

func (f execFunc) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	return f(ctx, id, cmd, timeout)
}

func TestExecProbe(t *testing.T) {
	big := strings.Repeat("x", maxOutput+100)
	cases := []struct {
		name    string
		res     runtime.ExecResult
		err     error
		want    outcome
		wantOut string
		wantErr bool
	}{
		{"exit 0", runtime.ExecResult{ExitCode: 0, Output: []byte("ok\n")}, nil, outcomeSuccess, "ok\n", false},
		{"exit 1", runtime.ExecResult{ExitCode: 1, Output: []byte("cat: can't open '/tmp/health': No such file or directory\n")}, nil,
			outcomeFailure, "cat: can't open '/tmp/health': No such file or directory\n", false},
		{"exit 137 no output", runtime.ExecResult{ExitCode: 137}, nil, outcomeFailure, "", false},
		{"timed out", runtime.ExecResult{TimedOut: true, ExitCode: -1, Output: []byte("partial")}, nil,
			outcomeFailure, `command "sh -c sleep 10" timed out`, false},
		{"output capped", runtime.ExecResult{ExitCode: 1, Output: []byte(big)}, nil, outcomeFailure, big[:maxOutput], false},
		{"runtime error", runtime.ExecResult{}, errors.New("container not running"), outcomeUnknown, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var gotID string
			var gotCmd []string
			var gotTimeout time.Duration
			ex := execFunc(func(_ context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
				gotID, gotCmd, gotTimeout = id, cmd, timeout
				return c.res, c.err
			})
			o, out, err := newExecProbe(ex, "c1", []string{"sh", "-c", "sleep 10"}, 5*time.Second, time.Minute)(context.Background())
			if o != c.want || out != c.wantOut || (err != nil) != c.wantErr {
				t.Fatalf("got %v %q %v; want %v %q err=%v", o, out, err, c.want, c.wantOut, c.wantErr)
			}
			if gotID != "c1" || strings.Join(gotCmd, " ") != "sh -c sleep 10" || gotTimeout != 5*time.Second {
				t.Fatalf("Exec(%q, %q, %v)", gotID, gotCmd, gotTimeout)
			}
		})
	}
}

func TestExecProbeBackstop(t *testing.T) {
	// A runtime that ignores the timeout: the probe fails as timed out
	// once the backstop passes.
	ex := execFunc(func(ctx context.Context, _ string, _ []string, _ time.Duration) (runtime.ExecResult, error) {
		<-ctx.Done()
		return runtime.ExecResult{}, ctx.Err()
	})
	start := time.Now()
	o, out, err := newExecProbe(ex, "c1", []string{"true"}, 10*time.Millisecond, 20*time.Millisecond)(context.Background())
	if o != outcomeFailure || out != `command "true" timed out` || err != nil {
		t.Fatalf("got %v %q %v", o, out, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}

	// Canceled by the caller: an error, which the step then drops.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if o, _, err := newExecProbe(ex, "c1", []string{"true"}, time.Second, time.Minute)(ctx); o != outcomeUnknown || err == nil {
		t.Fatalf("canceled: %v %v", o, err)
	}
}
