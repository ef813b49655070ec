package pod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// labelStopSignal keeps the image's STOPSIGNAL on the container, so a
// restarted daemon can stop it without reading the image again.
const labelStopSignal = "minilet.io/stop-signal"

// labelImage keeps the image the container was made from as the pod
// named it, so a change of the pod's image (the API server lets an image
// of a running pod change) shows on the running container.
const labelImage = "minilet.io/image"

// applyStart starts one attempt of a container; a failure is recorded
// with its retry delay (growing as the crash-loop back-off does), which the
// next plan honours.
func (w *worker) applyStart(ctx context.Context, pod *v1.Pod, c *v1.Container, a action, sb *runtime.Container, target uint32) {
	now := w.d.now()
	w.mu.Lock()
	failed := w.lastErr[c.Name]
	w.mu.Unlock()
	err := w.startContainer(ctx, pod, c, a.typ, a.attempt, sb, target)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		var ce containerError
		if !errors.As(err, &ce) {
			ce = containerError{reason: "RunContainerError", message: err.Error()}
		}
		var delay time.Duration
		delay, ce.st = w.d.backoff.Next(failed.st, time.Time{}, time.Time{})
		if delay == 0 {
			delay, ce.st = w.d.backoff.Next(ce.st, time.Time{}, time.Time{})
		}
		ce.due = now.Add(delay)
		if ce.leftover {
			ce.due = now // a new attempt, under another ID, can start at once
		}
		w.lastErr[c.Name] = ce
		w.log.Error("cannot start container; will retry", zap.String("container", c.Name),
			zap.String("reason", ce.reason), zap.String("error", ce.message), zap.Duration("retryIn", delay))
		return
	}
	delete(w.lastErr, c.Name)
	if a.reason != "" {
		w.d.obs.ContainerRestarted(pod.Namespace, pod.Name, c.Name, a.reason)
	}
}

// startContainer pulls the image, creates the container (unless an earlier
// run of the daemon already did) and starts it.
func (w *worker) startContainer(ctx context.Context, pod *v1.Pod, c *v1.Container, typ string, attempt int, sb *runtime.Container, target uint32) error {
	log := w.log.With(zap.String("container", c.Name))
	if typ == podsandbox.TypeEphemeral {
		// One added through the API server (kubectl debug) was not
		// checked for what minilet cannot honour.
		if err := manifest.CheckEphemeralContainer(pod, c.Name); err != nil {
			w.events.record(v1.EventTypeWarning, "Failed", "Error: "+err.Error(), c.Name)
			return containerError{reason: "CreateContainerConfigError", message: err.Error()}
		}
	}
	img, err := w.d.rt.EnsureImage(ctx, c.Image, runtime.PullPolicy(c.ImagePullPolicy), w.pullCredentials(pod, c)...)
	if err != nil {
		reason := "ErrImagePull"
		if c.ImagePullPolicy == v1.PullNever {
			reason = "ErrImageNeverPull"
		}
		w.events.record(v1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %v", c.Image, err), c.Name)
		return containerError{reason: reason, message: err.Error()}
	}
	if img.Pulled {
		w.events.record(v1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q", c.Image), c.Name)
	} else if attempt == 0 {
		w.events.record(v1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image), c.Name)
	}
	rec := w.record()
	extra := w.extraLabels(rec)
	extra[podsandbox.LabelSandbox] = sb.Labels[podsandbox.LabelSandbox]
	extra[labelImage] = c.Image
	extra[labelResources] = encodeResources(c.Resources)
	if img.Config.StopSignal != "" {
		extra[labelStopSignal] = img.Config.StopSignal
	}
	spec, err := podsandbox.ContainerSpecFor(podsandbox.ContainerParams{
		Pod: pod, PodID: w.podID, Container: c, Type: typ, RestartCount: attempt,
		Image: img, SandboxPID: sb.PID, PodIPs: rec.PodIPs, HostIP: w.d.cfg.HostIP,
		Paths: w.paths, CgroupParent: w.cgroupParent(), Extra: extra,
		Objects: w.d.objectSet(), Allocatable: w.d.allocatable(), SeccompProfileRoot: w.d.cfg.SeccompProfileRoot,
		CDIDevices: rec.containerDevices(c.Name), TargetPID: target,
	})
	if err != nil {
		w.events.record(v1.EventTypeWarning, "Failed", "Error: "+err.Error(), c.Name)
		return containerError{reason: "CreateContainerConfigError", message: err.Error()}
	}
	if c.TerminationMessagePath != "" {
		if err := makeTerminationLog(w.paths.TerminationLog(c.Name, attempt)); err != nil {
			w.events.record(v1.EventTypeWarning, "Failed", "Error: "+err.Error(), c.Name)
			return containerError{reason: "CreateContainerError", message: err.Error()}
		}
	}
	if spec.LogPath != "" && typ == podsandbox.TypeEphemeral {
		// The pod's log directories were made with its sandbox, before
		// this container was added.
		if err := os.MkdirAll(filepath.Dir(spec.LogPath), 0o750); err != nil {
			return containerError{reason: "CreateContainerError", message: err.Error()}
		}
	}
	if err := w.d.rt.CreateContainer(ctx, spec); err != nil && !errors.Is(err, runtime.ErrAlreadyExists) {
		w.events.record(v1.EventTypeWarning, "Failed", "Error: "+err.Error(), c.Name)
		return containerError{reason: "CreateContainerError", message: err.Error()}
	}
	if spec.LogPath != "" {
		if err := w.d.host.LinkContainerLog(pod, c.Name, spec.ID, spec.LogPath); err != nil {
			log.Warn("cannot link the container's log for log shippers", zap.Error(err))
		}
	}
	w.events.record(v1.EventTypeNormal, "Created", "Created container "+c.Name, c.Name)
	w.d.crashAt(CrashContainerCreated)
	pid, err := w.d.rt.StartContainer(ctx, spec.ID)
	if err != nil {
		w.events.record(v1.EventTypeWarning, "Failed", "Error: "+err.Error(), c.Name)
		return containerError{reason: "RunContainerError", message: err.Error(),
			leftover: errors.Is(err, runtime.ErrTaskLeftover), forID: spec.ID}
	}
	w.events.record(v1.EventTypeNormal, "Started", "Started container "+c.Name, c.Name)
	log.Info("started container", zap.String("id", spec.ID), zap.Uint32("pid", pid), zap.Int("restartCount", attempt))
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		// As the kubelet: a failing postStart hook kills the container,
		// which is then restarted per restartPolicy.
		if err := w.runHook(ctx, spec.ID, c, c.Lifecycle.PostStart, hookTimeout); err != nil {
			msg := "PostStartHook failed: " + err.Error()
			w.events.record(v1.EventTypeWarning, "FailedPostStartHook", msg, c.Name)
			log.Warn("postStart hook failed; killing the container", zap.Error(err))
			if err := w.d.rt.StopContainer(ctx, spec.ID, img.Config.StopSignal, time.Duration(gracePeriod(pod))*time.Second); err != nil {
				log.Warn("cannot kill the container whose postStart hook failed", zap.Error(err))
			}
			return containerError{reason: "PostStartHookError", message: msg}
		}
	}
	return nil
}

func (e containerError) Error() string { return e.reason + ": " + e.message }

func (w *worker) extraLabels(rec podRecord) map[string]string {
	return map[string]string{
		podsandbox.LabelPodHash:  rec.Hash,
		podsandbox.LabelManifest: rec.File,
	}
}

// cgroupParent is the pod's cgroup, under the daemon's cgroup root.
func (w *worker) cgroupParent() string {
	return w.d.cfg.CgroupRoot + "/pod" + w.podID
}

// containerDevices are the CDI devices given to one container.
func (r podRecord) containerDevices(name string) []string {
	if r.Devices == nil {
		return nil
	}
	return r.Devices.Containers[name]
}
