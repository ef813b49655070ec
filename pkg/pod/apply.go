package pod

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// errSandbox wraps a failure to make the sandbox, which the status and
// events report as FailedCreatePodSandBox.
type errSandbox struct{ err error }

func (e errSandbox) Error() string { return e.err.Error() }
func (e errSandbox) Unwrap() error { return e.err }

// applied is what carrying out a plan changed that the next pass can know
// without asking the runtime.
type applied struct {
	sandbox *runtime.Container // a sandbox made by this plan
}

// apply carries out a plan's steps in order, the actions of a step side by
// side. A failed start is not an error here (it is recorded, with its
// retry delay, for the next plan); any other failure stops the plan.
func (w *worker) apply(ctx context.Context, rec podRecord, o observed, p podPlan) (applied, error) {
	var out applied
	for _, step := range p.steps {
		if err := w.applyStep(ctx, rec, o, step, &out); err != nil {
			return out, err
		}
		if a := step[0]; a.kind == actKill && a.reason == "Terminating" && a.name != "" {
			w.d.crashAt(CrashContainersKilled)
		}
	}
	return out, nil
}

// applyStep carries out the actions of one step side by side.
func (w *worker) applyStep(ctx context.Context, rec podRecord, o observed, step []action, out *applied) error {
	if len(step) == 1 {
		return w.applyOne(ctx, rec, o, step[0], out)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, a := range step {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine applied // a step of several actions makes no sandbox
			err := w.applyOne(ctx, rec, o, a, &mine)
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (w *worker) applyOne(ctx context.Context, rec podRecord, o observed, a action, out *applied) error {
	w.log.Debug("apply", zap.Stringer("action", a))
	pod := rec.Pod
	switch a.kind {
	case actKill:
		return w.killContainer(ctx, a, containerSpecByName(pod, a.name))
	case actKillToRestart:
		w.killToRestart(ctx, pod, a)
		return nil
	case actRemove:
		if err := w.d.rt.RemoveContainer(ctx, a.id); err != nil {
			return err
		}
		// runc removes a container's cgroup with it, except for a task
		// containerd lost while runc had made it.
		if err := w.d.host.RemoveCgroup(w.cgroupParent() + "/" + a.id); err != nil {
			return err
		}
		if a.name != "" {
			if err := w.d.host.RemoveContainerLogLink(pod, a.name, a.id); err != nil {
				w.log.Warn("cannot remove the container's log link", zap.String("container", a.name), zap.Error(err))
			}
		}
		if a.logsBefore > 0 {
			removeOldTerminationLogs(w.paths.TerminationLog(a.name, 0), a.logsBefore)
			if err := w.d.host.RemoveOldContainerLogs(w.paths, a.name, a.logsBefore); err != nil {
				w.log.Warn("cannot remove old logs", zap.String("container", a.name), zap.Error(err))
			}
		}
		return nil
	case actRemoveSnapshot:
		return w.d.rt.RemoveSnapshot(ctx, a.id)
	case actMakeSandbox:
		sb, err := w.makeSandbox(ctx, a.reason == "SandboxChanged")
		if err != nil {
			return errSandbox{err}
		}
		out.sandbox = &sb
		return nil
	case actStart:
		c := containerSpecByName(pod, a.name)
		if c == nil || o.sandbox == nil {
			return fmt.Errorf("start %s: no such container or no sandbox", a.name)
		}
		w.applyStart(ctx, pod, c, a, o.sandbox, targetPID(pod, o, a))
		return nil
	case actWriteVolumes:
		return w.writeVolumes(pod)
	case actResize:
		w.applyResize(ctx, pod, a)
		return nil
	case actRemovePod:
		return w.removePod(ctx, pod, rec)
	case actRemoveVolumes:
		if err := w.d.host.RemoveVolumes(w.paths); err != nil {
			return err
		}
		w.mu.Lock()
		w.volumesRemoved = true
		w.mu.Unlock()
		w.log.Info("the evicted pod's volumes are removed")
		return nil
	}
	return fmt.Errorf("unknown action %q", a.kind)
}

// containerSpecByName finds an init or app container of the pod.
func containerSpecByName(pod *v1.Pod, name string) *v1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if ec := &pod.Spec.EphemeralContainers[i]; ec.Name == name {
			c := v1.Container(ec.EphemeralContainerCommon)
			return &c
		}
	}
	return nil
}

// targetPID is the process of the container an ephemeral container's
// targetContainerName names, whose PID namespace it joins (0: none).
func targetPID(pod *v1.Pod, o observed, a action) uint32 {
	if a.typ != podsandbox.TypeEphemeral {
		return 0
	}
	for _, ec := range pod.Spec.EphemeralContainers {
		if ec.Name == a.name && ec.TargetContainerName != "" {
			if cur := current(o, ec.TargetContainerName); cur != nil && cur.State == runtime.StateRunning {
				return cur.PID
			}
		}
	}
	return 0
}
