package pod

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/probe"
	"github.com/minilet/minilet/pkg/runtime"
)

type fakeProber struct {
	mu      sync.Mutex
	added   map[string]probe.Target
	removed []string
	term    []string
}

func (p *fakeProber) AddContainer(_ context.Context, t probe.Target, _ *v1.Container, _ chan<- probe.Update, _ probe.EventRecorder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added[t.ContainerID] = t
}
func (p *fakeProber) RemoveContainer(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removed = append(p.removed, id)
}
func (p *fakeProber) Terminating(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.term = append(p.term, uid)
}

func probedPod() *v1.Pod {
	pod := newPod(v1.RestartPolicyAlways, nil, "app")
	five := int64(5)
	pod.Spec.Containers[0].ReadinessProbe = &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}}
	pod.Spec.Containers[0].LivenessProbe = &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}, TerminationGracePeriodSeconds: &five}
	return pod
}

func TestProbesDriveReadinessAndLivenessKills(t *testing.T) {
	h := newHarness(t, probedPod())
	fp := &fakeProber{added: map[string]probe.Target{}}
	h.w.d.prober = fp
	h.sync()
	id := h.id("app", 0)
	target, ok := fp.added[id]
	if !ok || target.PodIP != "10.0.0.7" || target.StartedAt.IsZero() {
		t.Fatalf("probes not started for the running container: %+v", fp.added)
	}
	if st := h.status(); st.ContainerStatuses[0].Ready {
		t.Fatal("ready before the readiness probe succeeded")
	}
	h.w.onProbe(probe.Update{Target: target, Kind: probe.Readiness, Result: probe.Success})
	h.sync()
	if st := h.status(); !st.ContainerStatuses[0].Ready {
		t.Fatal("not ready after the readiness probe succeeded")
	}

	h.w.onProbe(probe.Update{Target: target, Kind: probe.Liveness, Result: probe.Failure, Message: "boom"})
	h.sync() // the worker's loop syncs after every probe result
	h.w.bg.Wait()
	stops := 0
	for _, c := range h.rt.Calls() {
		if c == "StopContainer "+id+"  5s" {
			stops++
		}
	}
	if stops != 1 {
		t.Fatalf("liveness failure must stop the container with the probe's 5s grace: %v", h.rt.Calls())
	}
	h.sync()
	if h.state(h.id("app", 1)) != runtime.StateRunning {
		t.Fatal("not restarted after the liveness kill")
	}
	if len(fp.removed) != 1 || fp.removed[0] != id {
		t.Fatalf("probes of the killed instance not stopped: %v", fp.removed)
	}
	if _, ok := fp.added[h.id("app", 1)]; !ok {
		t.Fatal("probes not started for the new instance")
	}
	var killing bool
	for _, e := range h.w.events.list() {
		if e.Reason == "Killing" && strings.Contains(e.Message, "failed liveness probe, will be restarted") {
			killing = true
		}
	}
	if !killing {
		t.Fatalf("no Killing event: %+v", h.w.events.list())
	}

	h.w.terminate()
	h.sync()
	if len(fp.term) != 1 {
		t.Fatalf("prober not told the pod terminates: %v", fp.term)
	}
	_ = time.Second
}
