package eviction

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

type fakeSignals struct{ obs []Observations } // one per Observe; the last repeats

func (f *fakeSignals) Observe(context.Context) (Observations, bool, error) {
	o := f.obs[0]
	if len(f.obs) > 1 {
		f.obs = f.obs[1:]
	}
	return o, false, nil
}

type fakePods struct {
	refs    []PodRef
	usage   map[string]Usage
	evicted []Eviction
}

func (f *fakePods) EvictionCandidates() []PodRef { return f.refs }
func (f *fakePods) EvictPod(_ context.Context, e Eviction) error {
	f.evicted = append(f.evicted, e)
	return nil
}
func (f *fakePods) EvictionDone(types.UID) bool { return true }
func (f *fakePods) Measure(ref PodRef) Usage    { return f.usage[ref.Pod.Name] }

type fakeRecorder struct{ events, evictions []string }

func (r *fakeRecorder) NodeEvent(_, reason, msg string) { r.events = append(r.events, reason+": "+msg) }
func (r *fakeRecorder) Evicted(signal string)           { r.evictions = append(r.evictions, signal) }

type fakeReclaim struct{ calls int }

func (r *fakeReclaim) ReclaimImages(context.Context) error { r.calls++; return nil }

func TestManagerReclaimsBeforeEvicting(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<0,nodefs.available<10Mi"})}
	low := Observations{SignalNodeFsAvailable: {Available: 5 << 20, Capacity: 100 << 20}}
	fine := Observations{SignalNodeFsAvailable: {Available: 50 << 20, Capacity: 100 << 20}}
	pods := &fakePods{
		refs:  []PodRef{{Pod: testPod("writer", 0, "", true)}, {Pod: testPod("keeper", 0, "", false), Static: true}},
		usage: map[string]Usage{"writer": {Found: true, Volumes: 40 << 20}, "keeper": {Found: true, Volumes: 50 << 20}},
	}
	rec, reclaim := &fakeRecorder{}, &fakeReclaim{}
	changes := 0
	// Images freed enough: nobody is evicted.
	sig := &fakeSignals{obs: []Observations{low, fine}}
	m := NewManager(cfg, sig, pods, pods, rec, zap.NewNop(), Options{Reclaim: reclaim, Changed: func() { changes++ }, Now: func() time.Time { return t0 }})
	if err := m.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reclaim.calls != 1 || len(pods.evicted) != 0 || !m.Pressure().Disk || changes != 1 {
		t.Fatalf("reclaim %d evicted %v pressure %+v changes %d", reclaim.calls, pods.evicted, m.Pressure(), changes)
	}
	// Not enough: the controller's pod goes, never the static one.
	sig.obs = []Observations{low}
	if err := m.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(pods.evicted) != 1 || pods.evicted[0].Pod.Name != "writer" || len(rec.evictions) != 1 || rec.evictions[0] != "nodefs.available" {
		t.Fatalf("evicted %v, metric %v", pods.evicted, rec.evictions)
	}
	if len(rec.events) != 2 || rec.events[0] != "EvictionThresholdMet: Attempting to reclaim ephemeral-storage" {
		t.Errorf("node events %v", rec.events)
	}
	if changes != 1 {
		t.Errorf("pressure did not change, yet changed was called %d times", changes)
	}
	// Reserved follows the hard thresholds.
	if r := m.Reserved(1<<30, 100<<20); !r.Set || r.Memory != 0 || r.EphemeralStorage != 10<<20 {
		t.Errorf("reserved %+v", r)
	}
}

func TestManagerEvictsForNoExecuteTaints(t *testing.T) {
	cfg := Config{Thresholds: mustThresholds(t, Flags{Hard: "memory.available<0"})}
	fine := Observations{SignalMemoryAvailable: {Available: 1 << 30, Capacity: 2 << 30}}
	tolerant := testPod("tolerant", 0, "", true)
	tolerant.Spec.Tolerations = []v1.Toleration{{Key: "maint", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(60))}}
	pods := &fakePods{refs: []PodRef{{Pod: testPod("web", 0, "", true)}, {Pod: tolerant}, {Pod: testPod("file", 0, "", false), Static: true}}}
	now := t0
	added := metav1.NewTime(t0)
	taints := []v1.Taint{{Key: "maint", Value: "yes", Effect: v1.TaintEffectNoExecute, TimeAdded: &added}}
	m := NewManager(cfg, &fakeSignals{obs: []Observations{fine}}, pods, pods, &fakeRecorder{}, zap.NewNop(),
		Options{Now: func() time.Time { return now }, Taints: func() []v1.Taint { return taints }})
	if err := m.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(pods.evicted) != 1 || pods.evicted[0].Pod.Name != "web" || pods.evicted[0].Reason != TaintReason ||
		pods.evicted[0].EventMessage != "Marking for deletion Pod default/web" || pods.evicted[0].GracePeriod != 30 {
		t.Fatalf("evicted %+v", pods.evicted)
	}
	if m.tolerationEnd == nil {
		t.Error("no wake-up for the toleration's end")
	}
	now = t0.Add(61 * time.Second)
	pods.refs = pods.refs[1:]
	if err := m.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(pods.evicted) != 2 || pods.evicted[1].Pod.Name != "tolerant" {
		t.Fatalf("after its 60 s the tolerant pod goes, the static one never: %+v", pods.evicted)
	}
}
