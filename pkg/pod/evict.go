package pod

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/eviction"
)

// evictionRecord is a node-pressure eviction, kept in the pod's record so
// that a restarted daemon finishes it and reports the pod Failed.
type evictionRecord struct {
	At time.Time `json:"at"`
	// Reason and Message are the pod's status reason and message (and
	// ConditionReason its DisruptionTarget condition's reason): the
	// eviction manager's Evicted, TerminationByKubelet; the NoExecute
	// taint's DeletionByTaintManager.
	Reason          string `json:"reason"`
	ConditionReason string `json:"conditionReason"`
	Message         string `json:"message"`
	GracePeriod     int64  `json:"gracePeriodSeconds"`
}

// ErrCannotEvict: the pod is finishing or finished already.
var ErrCannotEvict = errors.New("pod cannot be evicted")

// EvictPod evicts a running pod, as the kubelet's eviction manager (or the
// taint eviction controller): every container is stopped with
// e.GracePeriod, the pod is Failed with e.Reason, e.Message and a
// DisruptionTarget condition, its volumes are
// torn down once its containers are gone, and it is not started again
// (its controller, if any, replaces it). It returns once the eviction is
// in the pod's record.
func (m *Manager) EvictPod(ctx context.Context, e eviction.Eviction) error {
	m.mu.Lock()
	w := m.active[e.Pod.Namespace+"/"+e.Pod.Name]
	m.mu.Unlock()
	if w == nil || w.record().Pod.UID != e.Pod.UID {
		return fmt.Errorf("%w: pods %q not found", ErrPodNotFound, e.Pod.Name)
	}
	if w.isTerminating() || w.terminal() {
		return fmt.Errorf("%w: pod %q is stopping or has finished", ErrCannotEvict, e.Pod.Name)
	}
	rec := &evictionRecord{At: w.d.now(), Reason: e.Reason, ConditionReason: e.ConditionReason, Message: e.Message, GracePeriod: e.GracePeriod}
	return w.requestEdit(ctx, &recordEdit{
		what: "the eviction of the pod",
		edit: func(r *podRecord) {
			if r.Evicted == nil {
				r.Evicted = rec
			}
		},
		saved: func() {
			w.events.recordAnnotated(e.EventType, e.EventReason, e.EventMessage, e.Annotations)
			w.log.Warn("evicting the pod", zap.String("reason", e.Reason), zap.String("signal", string(e.Signal)), zap.String("message", e.Message),
				zap.Int64("gracePeriodSeconds", e.GracePeriod))
		},
	})
}

// EvictionCandidates are the pods eviction may rank: admitted, started,
// neither stopping nor finished.
func (m *Manager) EvictionCandidates() []eviction.PodRef {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	var out []eviction.PodRef
	for _, w := range ws {
		if w.isTerminating() || w.terminal() || w.blockedBy() != nil {
			continue
		}
		rec := w.record()
		if rec.Evicted != nil || len(rec.PodIPs) == 0 && !rec.Pod.Spec.HostNetwork {
			continue
		}
		w.mu.Lock()
		st := *w.status.DeepCopy()
		w.mu.Unlock()
		pod := rec.Pod.DeepCopy()
		pod.Status = st
		ids := map[string]string{}
		for _, list := range [][]v1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
			for _, cs := range list {
				if cs.State.Running != nil && cs.ContainerID != "" {
					ids[cs.Name] = strings.TrimPrefix(cs.ContainerID, "containerd://")
				}
			}
		}
		out = append(out, eviction.PodRef{
			Pod: pod, Static: isStatic(pod), CgroupParent: w.cgroupParent(),
			VolumesDir: w.paths.VolumeDir(""), LogDir: w.paths.LogDir, Containers: ids,
		})
	}
	return out
}

// EvictionDone reports whether the evicted pod uid has released what it
// held: its containers stopped and its volumes removed (or it is gone).
func (m *Manager) EvictionDone(uid types.UID) bool {
	m.mu.Lock()
	ws := m.allLocked()
	m.mu.Unlock()
	for _, w := range ws {
		if w.record().Pod.UID != uid {
			continue
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.volumesRemoved || w.torndown
	}
	return true
}

// isStatic: the pod comes from a manifest file, not from a workload
// controller (the kubelet's static pods).
func isStatic(pod *v1.Pod) bool { return len(pod.OwnerReferences) == 0 }
