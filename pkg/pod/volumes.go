package pod

import (
	"fmt"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podvolume"
)

// volumeInput is what plan knows of the pod's volumes that need objects.
type volumeInput struct {
	// due: the files of a configMap, secret, downwardAPI or projected
	// volume differ from what this worker last wrote (or it wrote none
	// yet, as after a daemon restart: writing the same files again
	// changes nothing).
	due bool
	// err: a volume cannot be set up now (a ConfigMap, Secret, key or
	// claim is missing and not optional). A pod without its sandbox waits
	// (ContainerCreating, as the kubelet's FailedMount); a running pod
	// keeps its volumes' last content.
	err error
}

// volumeInputs computes the payload of every such volume from the current
// objects and compares it with what was written.
func (w *worker) volumeInputs(pod *v1.Pod) volumeInput {
	var out volumeInput
	objs := w.d.objectSet()
	in := podvolume.Inputs{Pod: pod, Objects: objs, Allocatable: w.d.allocatable()}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if c := v.PersistentVolumeClaim; c != nil {
			if _, ok := objs.Claim(pod.Namespace, c.ClaimName); !ok && out.err == nil {
				out.err = mountError(v.Name, fmt.Errorf("persistentvolumeclaim %q not found", c.ClaimName))
			}
			continue
		}
		if !podvolume.HasFiles(v) {
			continue
		}
		p, err := podvolume.For(in, v)
		if err != nil {
			if out.err == nil {
				out.err = mountError(v.Name, err)
			}
			continue
		}
		w.mu.Lock()
		written := w.volWritten[v.Name]
		w.mu.Unlock()
		if written != p.Digest() {
			out.due = true
		}
	}
	return out
}

// mountError words a volume that cannot be set up as the kubelet's
// FailedMount event does.
func mountError(volume string, err error) error {
	return fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", volume, err)
}

// writeVolumes writes the files of every configMap, secret, downwardAPI
// and projected volume whose content changed, and remembers what it wrote.
// A volume that cannot be made now is left as it is.
func (w *worker) writeVolumes(pod *v1.Pod) error {
	in := podvolume.Inputs{Pod: pod, Objects: w.d.objectSet(), Allocatable: w.d.allocatable()}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !podvolume.HasFiles(v) {
			continue
		}
		p, err := podvolume.For(in, v)
		if err != nil {
			continue // plan waits, or keeps the last content
		}
		d := p.Digest()
		w.mu.Lock()
		same := w.volWritten[v.Name] == d
		w.mu.Unlock()
		if same {
			continue
		}
		changed, err := w.d.host.WriteVolume(pod, w.paths, v.Name, p)
		if err != nil {
			return err
		}
		if changed {
			w.log.Info("volume files updated", zap.String("volume", v.Name), zap.Int("files", len(p)))
		}
		w.mu.Lock()
		w.volWritten[v.Name] = d
		w.mu.Unlock()
	}
	return nil
}

// reportVolumeError records a FailedMount event when the reason a volume
// cannot be set up changes (repeats of the same reason are folded into
// one event by the event log anyway).
func (w *worker) reportVolumeError(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	w.mu.Lock()
	same := w.volErr == msg
	w.volErr = msg
	w.mu.Unlock()
	if err != nil && !same {
		w.events.record(v1.EventTypeWarning, "FailedMount", msg, "")
		w.log.Warn("cannot set up a volume; the pod waits for it", zap.Error(err))
	}
}

// objectsChanged is told that ConfigMaps, Secrets or claims the pod reads
// changed: volumes are written again, and a container that could not be
// made for want of one is tried again at once.
func (w *worker) objectsChanged() {
	w.mu.Lock()
	now := w.d.now()
	for name, f := range w.lastErr {
		if f.reason == "CreateContainerConfigError" {
			f.due = now
			w.lastErr[name] = f
		}
	}
	w.mu.Unlock()
	w.wake()
}

// refersToAny reports whether pod reads one of the objects named in keys
// (manifest.Object keys: "<Kind> <namespace>/<name>").
func refersToAny(pod *v1.Pod, keys map[string]bool) bool {
	for _, r := range podvolume.Refs(pod) {
		if keys[r.Kind+" "+pod.Namespace+"/"+r.Name] {
			return true
		}
	}
	return false
}

// changedObjects lists the keys of objects added, changed or removed
// between two sets of objects.
func changedObjects(old, cur []manifest.Object) map[string]bool {
	was := map[string]string{}
	for _, o := range old {
		was[o.Key()] = o.Hash
	}
	out := map[string]bool{}
	for _, o := range cur {
		if was[o.Key()] != o.Hash {
			out[o.Key()] = true
		}
		delete(was, o.Key())
	}
	for k := range was {
		out[k] = true
	}
	return out
}

// limitClaims makes each claim's resources.requests.storage a hard limit
// where the filesystem has project quotas (elsewhere it is shown as not
// enforced). A failure is logged: the pod runs without the limit.
func (w *worker) limitClaims(pod *v1.Pod) {
	objs := w.d.objectSet()
	for _, v := range pod.Spec.Volumes {
		c := v.PersistentVolumeClaim
		if c == nil {
			continue
		}
		claim, ok := objs.Claim(pod.Namespace, c.ClaimName)
		if !ok {
			continue
		}
		q, ok := claim.Spec.Resources.Requests[v1.ResourceStorage]
		if !ok {
			continue
		}
		enforced, err := w.d.host.LimitClaim(w.paths.ClaimDir(pod.Namespace, c.ClaimName), q.Value())
		switch {
		case err != nil:
			w.log.Warn("cannot limit the claim's size; it is not enforced", zap.String("claim", c.ClaimName), zap.Error(err))
		case enforced:
			w.log.Debug("claim size enforced by a project quota", zap.String("claim", c.ClaimName), zap.Int64("bytes", q.Value()))
		}
	}
}
