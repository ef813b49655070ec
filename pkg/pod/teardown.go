package pod

import (
	"context"
	"errors"
	"time"

	"github.com/minilet/minilet/pkg/podsandbox"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// minGrace is the kubelet's floor between a preStop hook and SIGKILL.
const minGrace = 2 * time.Second

// removePod is the last step of a teardown, once every container is
// gone: the network is released and the netns, cgroup, logs, files and
// mounts removed. Every step is idempotent. The state dir, with the pod's
// record, goes last and only once the rest is gone: a daemon killed on
// the way finds the record and finishes the job.
func (w *worker) removePod(ctx context.Context, pod *v1.Pod, rec podRecord) error {
	// The pod's shim, should a delete cut short have left it.
	errs := []error{w.d.rt.EndGroups(ctx, podsandbox.ShimGroup(w.podID))}
	if !pod.Spec.HostNetwork {
		errs = append(errs, w.d.net.Detach(ctx, rec.NetnsPath, w.attachment(pod)), w.d.net.RemoveNetns(w.podID))
	}
	errs = append(errs,
		w.d.host.RemoveCgroup(w.cgroupParent()),
		w.d.host.RemoveLogs(w.paths))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := w.d.host.Teardown(w.paths); err != nil {
		return err
	}
	w.stopProbes()
	w.log.Info("pod removed")
	w.mu.Lock()
	w.torndown = true
	w.mu.Unlock()
	return nil
}

// terminationGrace is the pod's grace period, or drain's in its place.
func (w *worker) terminationGrace() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.graceOver != nil {
		return time.Duration(*w.graceOver) * time.Second
	}
	return time.Duration(gracePeriod(w.rec.Pod)) * time.Second
}

// terminatingStatus is the status while the pod stops: no container is
// ready any more, as the kubelet reports it.
func (w *worker) terminatingStatus() v1.PodStatus {
	w.mu.Lock()
	st := *w.status.DeepCopy()
	w.mu.Unlock()
	for i := range st.ContainerStatuses {
		st.ContainerStatuses[i].Ready = false
	}
	for i := range st.InitContainerStatuses {
		st.InitContainerStatuses[i].Ready = false // sidecars
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == v1.PodReady || st.Conditions[i].Type == v1.ContainersReady {
			if st.Conditions[i].Status == v1.ConditionTrue {
				st.Conditions[i].Status = v1.ConditionFalse
				st.Conditions[i].Reason = "PodTerminating"
				st.Conditions[i].LastTransitionTime = metav1.NewTime(w.d.now())
			}
		}
	}
	return st
}

// killContainer stops one container: preStop hook, then the stop signal,
// then SIGKILL after what is left of grace (at least minGrace when grace >
// 0, as the kubelet). spec is nil for the pause container.
func (w *worker) killContainer(ctx context.Context, a action, spec *v1.Container) error {
	if a.name != "" {
		w.events.record(v1.EventTypeNormal, "Killing", "Stopping container "+a.name, a.name)
	}
	return w.stopContainer(ctx, a, spec)
}

// stopContainer is killContainer without its event.
func (w *worker) stopContainer(ctx context.Context, a action, spec *v1.Container) error {
	log := w.log.With(zap.String("container", a.name))
	start := w.d.now()
	grace := a.grace
	if grace > 0 && spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil {
		// The hook uses up the grace period; what is left (at least
		// minGrace) goes to the stop signal.
		if err := w.runHook(ctx, a.id, spec, spec.Lifecycle.PreStop, grace); err != nil {
			w.events.record(v1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: "+err.Error(), a.name)
			log.Warn("preStop hook failed", zap.Error(err))
		}
		grace -= w.d.now().Sub(start)
		if grace < minGrace {
			grace = minGrace
		}
	}
	if err := w.d.rt.StopContainer(ctx, a.id, a.signal, grace); err != nil {
		return err
	}
	log.Info("stopped container", zap.String("id", a.id), zap.String("why", a.reason), zap.Duration("took", w.d.now().Sub(start)))
	return nil
}
