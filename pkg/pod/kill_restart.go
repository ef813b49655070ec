package pod

import (
	"context"
	"fmt"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/probe"
)

// killToRestart stops a container that is to start again (its liveness or
// startup probe failed, the API server changed its image, or its resize
// requires a restart) in the
// background, as the grace period may be long: preStop hook, stop signal,
// SIGKILL, as for any kill. It remembers why, for the restart that follows.
func (w *worker) killToRestart(ctx context.Context, pod *v1.Pod, a action) {
	w.mu.Lock()
	if w.killReason[a.id] != "" {
		w.mu.Unlock()
		return // already being killed
	}
	w.killReason[a.id] = a.reason
	w.mu.Unlock()
	spec := containerSpecByName(pod, a.name)
	w.events.record(v1.EventTypeNormal, "Killing", killMessage(pod, spec, a), a.name)
	w.log.Info("killing container to restart it", zap.String("container", a.name),
		zap.String("why", a.reason), zap.Duration("grace", a.grace))
	w.background(func() {
		if err := w.stopContainer(ctx, a, spec); err != nil {
			w.log.Warn("cannot kill the container", zap.String("container", a.name), zap.String("why", a.reason), zap.Error(err))
		}
		w.wake()
	})
}

// killMessage is the kubelet's Killing event message for a kill that
// restarts the container.
func killMessage(pod *v1.Pod, spec *v1.Container, a action) string {
	if a.reason == ReasonResizeRestart {
		return fmt.Sprintf("Container %s resize requires restart", a.name)
	}
	if a.reason == ReasonDefinitionChanged {
		if spec != nil && isSidecar(spec) {
			return fmt.Sprintf("Init container %s definition changed", a.name)
		}
		return fmt.Sprintf("Container %s definition changed, will be restarted", a.name)
	}
	kind := probe.Liveness
	if a.reason == "StartupProbe" {
		kind = probe.Startup
	}
	if spec != nil && isSidecar(spec) {
		return fmt.Sprintf("Init container %s failed %s probe", a.name, kind)
	}
	if pod.Spec.RestartPolicy == v1.RestartPolicyNever {
		return fmt.Sprintf("Container %s failed %s probe", a.name, kind)
	}
	return fmt.Sprintf("Container %s failed %s probe, will be restarted", a.name, kind)
}
