package containerd

import (
	"context"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/events"
	"github.com/containerd/typeurl/v2"
	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/runtime"
)

// Exits streams the exits of containers' init processes (not of exec'd
// processes) in minilet's namespace. When containerd goes away the stream
// is re-subscribed with back-off; the consumer gets a zero Exit (empty
// ContainerID) after each reconnect, meaning "exits may have been missed,
// re-check your containers". The channel closes when ctx ends.
func (r *Runtime) Exits(ctx context.Context) (<-chan runtime.Exit, error) {
	out := make(chan runtime.Exit, 64)
	go func() {
		defer close(out)
		backoff := 100 * time.Millisecond
		first := true
		for ctx.Err() == nil {
			subCtx, cancel := context.WithCancel(r.ctx(ctx))
			evs, errs := r.client.Subscribe(subCtx,
				`topic=="/tasks/exit",namespace==`+quote(r.opts.Namespace))
			if !first {
				select {
				case out <- runtime.Exit{}:
				case <-ctx.Done():
				}
			}
			first = false
			got := r.pump(subCtx, evs, errs, out)
			cancel()
			if got {
				backoff = 100 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
		}
	}()
	return out, nil
}

// pump forwards events until the subscription fails; it reports whether
// any event arrived.
func (r *Runtime) pump(ctx context.Context, evs <-chan *events.Envelope, errs <-chan error, out chan<- runtime.Exit) bool {
	got := false
	for {
		select {
		case <-ctx.Done():
			return got
		case err := <-errs:
			if ctx.Err() == nil {
				r.log.Warn("containerd event stream broken; reconnecting", zap.Error(err))
			}
			return got
		case env, ok := <-evs:
			if !ok {
				return got
			}
			got = true
			if env.Event == nil {
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				continue
			}
			e, ok := v.(*apievents.TaskExit)
			if !ok || e.ID != e.ContainerID {
				continue // an exec'd process, not the container
			}
			ex := runtime.Exit{ContainerID: e.ContainerID, PID: e.Pid, ExitCode: int32(e.ExitStatus)}
			if e.ExitedAt != nil {
				ex.ExitedAt = e.ExitedAt.AsTime()
			}
			select {
			case out <- ex:
			case <-ctx.Done():
				return got
			}
		}
	}
}

func quote(s string) string { return `"` + s + `"` }
