package workload

import (
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Observed is what the pod manager runs now, by pod UID. A pod a record
// lists but Observed lacks has just been handed over, or its status is not
// known yet (the pod manager is adopting it after a restart): it counts
// as active, neither ready nor finished, and while a workload has such a
// pod its controller neither makes nor deletes pods (as the controllers
// wait for their expectations): a finished pod taken for a running one
// would have a running pod deleted.
type Observed map[types.UID]v1.Pod

// NewObserved indexes the pod manager's pods.
func NewObserved(pods []v1.Pod) Observed {
	o := make(Observed, len(pods))
	for _, p := range pods {
		if _, dup := o[p.UID]; dup && p.DeletionTimestamp != nil {
			continue // an older instance stopping under the same UID
		}
		o[p.UID] = p
	}
	return o
}

// view is a pod as the controllers judge it.
type view struct {
	pod      v1.Pod // as the record has it (spec) with the observed status
	seen     bool   // the pod manager runs it
	phase    v1.PodPhase
	ready    bool
	readyAt  time.Time // when it last became ready
	restarts int32
}

func (o Observed) view(p v1.Pod) view {
	v := view{pod: p, phase: v1.PodPending}
	got, ok := o[p.UID]
	if !ok {
		return v
	}
	v.seen = true
	v.pod.Status = got.Status
	v.phase = got.Status.Phase
	for _, c := range got.Status.Conditions {
		if c.Type == v1.PodReady && c.Status == v1.ConditionTrue {
			v.ready, v.readyAt = true, c.LastTransitionTime.Time
		}
	}
	for _, cs := range got.Status.ContainerStatuses {
		v.restarts += cs.RestartCount
	}
	return v
}

// unknown reports whether a pod of pods has no known status yet.
func (o Observed) unknown(pods []v1.Pod) bool {
	for _, p := range pods {
		if _, ok := o[p.UID]; !ok {
			return true
		}
	}
	return false
}

// finished: the pod will run no more.
func (v view) finished() bool { return v.phase == v1.PodSucceeded || v.phase == v1.PodFailed }

// available: ready for at least minReady seconds at now.
func (v view) available(minReady int32, now time.Time) bool {
	if !v.ready || v.finished() {
		return false
	}
	return minReady == 0 || !now.Before(v.readyAt.Add(time.Duration(minReady)*time.Second))
}

// availableIn is how long until a ready pod becomes available (0: it is,
// or it is not ready).
func (v view) availableIn(minReady int32, now time.Time) time.Duration {
	if !v.ready || minReady == 0 {
		return 0
	}
	return max(0, v.readyAt.Add(time.Duration(minReady)*time.Second).Sub(now))
}
