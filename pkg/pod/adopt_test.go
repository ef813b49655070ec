package pod

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// A restarted daemon adopts the pods it has a record of, stops the
// containers of pods it has none of, and releases network namespaces that
// belong to no pod.
func TestAdoptRecordsOrphansAndStrayNetns(t *testing.T) {
	h := newHarness(t, newPod(v1.RestartPolicyAlways, nil, "app"))
	h.sync() // pod p runs, with its record
	ctx := context.Background()

	// Containers of a pod with no record (its state dir was lost).
	orphan := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lost", Namespace: "default", UID: "uid-lost"},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "busybox:1"}}}}
	oid := podsandbox.PodID(orphan.UID)
	spec := podsandbox.SandboxSpec(podsandbox.SandboxParams{Pod: orphan, PodID: oid, Image: mustImage(t, h, "pause:1")})
	if err := h.rt.CreateContainer(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// A netns of a pod nobody knows.
	h.net.netns["0123456789ab"] = true

	m := &Manager{d: h.w.d, active: map[string]*worker{}, terminating: map[*worker]struct{}{}}
	ws, err := m.adopt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("adopted %d workers, want the recorded pod and the orphan", len(ws))
	}
	if w := m.active["default/p"]; w == nil || w.isTerminating() || w.fresh {
		t.Fatalf("recorded pod not adopted as active: %+v", m.active)
	}
	var orphanW *worker
	for w := range m.terminating {
		orphanW = w
	}
	if orphanW == nil || orphanW.podID != oid || !orphanW.isTerminating() {
		t.Fatalf("orphan not terminating: %+v", m.terminating)
	}
	if h.net.netns["0123456789ab"] {
		t.Fatal("stray netns not removed")
	}
	if !h.net.netns[h.w.podID] {
		t.Fatal("the adopted pod's netns was removed")
	}
	orphanW.sync(ctx)
	if !orphanW.isTorndown() || h.state(spec.ID) != "absent" {
		t.Fatalf("orphan not removed: torndown=%v sandbox=%s", orphanW.isTorndown(), h.state(spec.ID))
	}
}

func mustImage(t *testing.T, h *harness, ref string) runtime.Image {
	img, err := h.rt.EnsureImage(context.Background(), ref, "")
	if err != nil {
		t.Fatal(err)
	}
	return img
}
