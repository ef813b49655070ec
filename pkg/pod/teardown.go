package pod

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// minGrace is the kubelet's floor between a preStop hook and SIGKILL.
const minGrace = 2 * time.Second

// teardown stops the pod gracefully and removes everything it made:
// containers, snapshots, sandbox, network, files, cgroup, logs. On an error
// it is retried at the next sync; every step is idempotent.
func (w *worker) teardown(ctx context.Context) {
	rec := w.record()
	pod := rec.Pod
	if w.d.prober != nil {
		w.d.prober.Terminating(string(pod.UID))
	}
	w.setStatus(w.terminatingStatus())
	pc, err := w.listPod(ctx)
	if err != nil {
		w.log.Warn("cannot list the pod's containers to stop them; will retry", zap.Error(err))
		return
	}
	grace := time.Duration(gracePeriod(pod)) * time.Second
	w.mu.Lock()
	if w.graceOver != nil {
		grace = time.Duration(*w.graceOver) * time.Second
	}
	w.mu.Unlock()
	if err := w.killContainers(ctx, pod, pc, grace); err != nil {
		w.log.Warn("cannot stop the pod's containers; will retry", zap.Error(err))
		return
	}
	w.d.crashAt(CrashContainersKilled)
	var errs []error
	if pc.sandbox != nil {
		errs = append(errs, w.d.rt.StopContainer(ctx, pc.sandbox.ID, "", minGrace))
	}
	for _, list := range pc.byName {
		for _, c := range list {
			errs = append(errs, w.d.rt.RemoveContainer(ctx, c.ID))
		}
	}
	if pc.sandbox != nil {
		errs = append(errs, w.d.rt.RemoveContainer(ctx, pc.sandbox.ID))
	}
	if !pod.Spec.HostNetwork {
		netns := rec.NetnsPath
		errs = append(errs, w.d.net.Detach(ctx, netns, w.attachment(pod)), w.d.net.RemoveNetns(w.podID))
	}
	errs = append(errs,
		w.d.host.Teardown(w.paths),
		w.d.host.RemoveCgroup(w.cgroupParent()),
		w.d.host.RemoveLogs(w.paths))
	if err := errors.Join(errs...); err != nil {
		w.log.Warn("cannot remove all of the pod; will retry", zap.Error(err))
		return
	}
	w.stopProbes()
	w.log.Info("pod removed")
	w.mu.Lock()
	w.torndown = true
	w.mu.Unlock()
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

// killContainers stops the pod's running app and init containers in
// parallel: preStop hook, then the stop signal, then SIGKILL after what is
// left of grace (at least minGrace when grace > 0).
func (w *worker) killContainers(ctx context.Context, pod *v1.Pod, pc podContainers, grace time.Duration) error {
	specs := map[string]*v1.Container{}
	for i := range pod.Spec.InitContainers {
		specs[pod.Spec.InitContainers[i].Name] = &pod.Spec.InitContainers[i]
	}
	for i := range pod.Spec.Containers {
		specs[pod.Spec.Containers[i].Name] = &pod.Spec.Containers[i]
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for name, list := range pc.byName {
		for _, c := range list {
			if c.State != runtime.StateRunning && c.State != runtime.StateUnknown {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := w.killContainer(ctx, c, specs[name], grace)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (w *worker) killContainer(ctx context.Context, c runtime.Container, spec *v1.Container, grace time.Duration) error {
	name := c.Labels[podsandbox.LabelContainerName]
	log := w.log.With(zap.String("container", name))
	start := w.d.now()
	w.events.record(v1.EventTypeNormal, "Killing", "Stopping container "+name, name)
	if grace > 0 && spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil {
		// The hook uses up the grace period; what is left (at least
		// minGrace) goes to the stop signal.
		if err := w.runHook(ctx, c.ID, spec, spec.Lifecycle.PreStop, grace); err != nil {
			w.events.record(v1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: "+err.Error(), name)
			log.Warn("preStop hook failed", zap.Error(err))
		}
		grace -= w.d.now().Sub(start)
		if grace < minGrace {
			grace = minGrace
		}
	}
	if err := w.d.rt.StopContainer(ctx, c.ID, c.Labels[labelStopSignal], grace); err != nil {
		return err
	}
	log.Info("stopped container", zap.Duration("took", w.d.now().Sub(start)))
	return nil
}
