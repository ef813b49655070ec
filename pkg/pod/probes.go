package pod

import (
	"context"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/probe"
	"github.com/minilet/minilet/pkg/runtime"
)

// Prober runs a container's probes and reports changed results (pkg/probe).
type Prober interface {
	AddContainer(ctx context.Context, t probe.Target, c *v1.Container, out chan<- probe.Update, events probe.EventRecorder)
	RemoveContainer(containerID string)
	Terminating(podUID string)
}

// probeState is what the worker knows of one container instance's probes.
type probeState struct {
	results map[probe.Kind]probe.Result
}

// syncProbes starts probe workers for running containers and stops those
// of instances that are no longer running.
func (w *worker) syncProbes(ctx context.Context, pod *v1.Pod, pc observed) {
	if w.d.prober == nil {
		return
	}
	specs := containerSpecs(pod)
	live := map[string]bool{}
	for name, spec := range specs {
		cur := pc.latest(name)
		if cur == nil || cur.State != runtime.StateRunning {
			continue
		}
		live[cur.ID] = true
		w.mu.Lock()
		_, known := w.probes[cur.ID]
		if !known {
			w.probes[cur.ID] = &probeState{results: map[probe.Kind]probe.Result{}}
		}
		podIP := ""
		if len(w.rec.PodIPs) > 0 {
			podIP = w.rec.PodIPs[0]
		}
		w.mu.Unlock()
		if known {
			continue
		}
		w.d.prober.AddContainer(ctx, probe.Target{
			PodUID: string(pod.UID), Namespace: pod.Namespace, Pod: pod.Name, Container: name,
			ContainerID: cur.ID, PodIP: podIP, StartedAt: cur.StartedAt,
		}, spec, w.probeCh, probeEvents{w})
	}
	w.mu.Lock()
	var gone []string
	for id := range w.probes {
		if !live[id] {
			gone = append(gone, id)
			delete(w.probes, id)
		}
	}
	w.mu.Unlock()
	for _, id := range gone {
		w.d.prober.RemoveContainer(id)
	}
}

// stopProbes stops every probe worker of the pod.
func (w *worker) stopProbes() {
	if w.d.prober == nil {
		return
	}
	w.mu.Lock()
	ids := make([]string, 0, len(w.probes))
	for id := range w.probes {
		ids = append(ids, id)
	}
	w.probes = map[string]*probeState{}
	w.mu.Unlock()
	for _, id := range ids {
		w.d.prober.RemoveContainer(id)
	}
}

// onProbe records a changed probe result. The sync that follows decides
// what it means (plan: a liveness or startup failure kills the container,
// which is then restarted per restartPolicy).
func (w *worker) onProbe(u probe.Update) {
	w.mu.Lock()
	ps, ok := w.probes[u.Target.ContainerID]
	if ok {
		ps.results[u.Kind] = u.Result
	}
	w.mu.Unlock()
	if !ok {
		return // an instance already gone
	}
	if u.Result == probe.Failure && u.Kind != probe.Readiness {
		w.log.Info("probe failed", zap.String("container", u.Target.Container),
			zap.String("probe", string(u.Kind)), zap.String("why", u.Message))
	}
	w.log.Debug("probe result changed", zap.String("container", u.Target.Container),
		zap.String("probe", string(u.Kind)), zap.String("result", u.Result.String()))
}

// probeInfos is what the probes say of each running container instance,
// for plan.
func (w *worker) probeInfos(pod *v1.Pod, o observed) map[string]probeInfo {
	out := map[string]probeInfo{}
	for name, spec := range containerSpecs(pod) {
		cur := current(o, name)
		if cur == nil || cur.State != runtime.StateRunning {
			continue
		}
		started, _ := w.probeView(spec, cur.ID)
		info := probeInfo{started: started}
		w.mu.Lock()
		if ps, ok := w.probes[cur.ID]; ok {
			switch {
			case ps.results[probe.Startup] == probe.Failure:
				info.failed = "StartupProbe"
			case ps.results[probe.Liveness] == probe.Failure:
				info.failed = "LivenessProbe"
			}
		}
		w.mu.Unlock()
		out[cur.ID] = info
	}
	return out
}

// containerReady and containerStarted read the probe results of one
// running container instance for its status.
func (w *worker) probeView(c *v1.Container, id string) (started, ready bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var res map[probe.Kind]probe.Result
	if ps, ok := w.probes[id]; ok {
		res = ps.results
	}
	result := func(k probe.Kind) probe.Result {
		if r, ok := res[k]; ok {
			return r
		}
		return k.Initial()
	}
	started = c.StartupProbe == nil || result(probe.Startup) == probe.Success
	if w.d.prober == nil {
		started = c.StartupProbe == nil
	}
	ready = started && (c.ReadinessProbe == nil || (w.d.prober != nil && result(probe.Readiness) == probe.Success))
	if w.terminating {
		ready = false
	}
	return started, ready
}

func containerSpecs(pod *v1.Pod) map[string]*v1.Container {
	out := map[string]*v1.Container{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if isSidecar(c) {
			out[c.Name] = c
		}
	}
	for i := range pod.Spec.Containers {
		out[pod.Spec.Containers[i].Name] = &pod.Spec.Containers[i]
	}
	return out
}

// probeEvents records a pod's probe events on it (probe.EventRecorder).
type probeEvents struct{ w *worker }

func (e probeEvents) Event(t probe.Target, eventType, reason, message string) {
	e.w.events.record(eventType, reason, message, t.Container)
	if eventType == v1.EventTypeWarning {
		e.w.log.Info("probe: "+message, zap.String("container", t.Container), zap.String("reason", reason))
	}
}
