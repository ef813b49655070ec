package workload

import (
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/jobpolicy"
)

// rsCounts are a ReplicaSet's status counts.
type rsCounts struct {
	replicas, ready, available int32
}

// countReplicaSet counts the active (not finished) pods of rs, the ready
// and the available ones; soonest is how long until a ready pod becomes
// available (0: none waits).
func countReplicaSet(rs *ReplicaSetRecord, obs Observed, minReady int32, now time.Time) (c rsCounts, soonest time.Duration) {
	for _, p := range rs.Pods {
		v := obs.view(p)
		if v.finished() {
			continue
		}
		c.replicas++
		if v.ready {
			c.ready++
		}
		if v.available(minReady, now) {
			c.available++
		} else if d := v.availableIn(minReady, now); d > 0 && (soonest == 0 || d < soonest) {
			soonest = d
		}
	}
	return c, soonest
}

// syncReplicaSet is the ReplicaSet controller's pass over one ReplicaSet:
// finished pods are deleted (a failed one replaced after the back-off),
// missing pods made from its template, extra ones deleted, the least
// valuable first. namespace is the workload's.
func syncReplicaSet(rs *ReplicaSetRecord, namespace string, obs Observed, e *env, res *result) {
	var active []view
	for _, p := range rs.Pods {
		v := obs.view(p)
		if v.finished() {
			if v.phase == v1.PodFailed {
				rs.Failures++
				rs.LastFailure = e.now
			}
			res.event(v1.EventTypeNormal, "ReplicaSet", rs.Name, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			continue
		}
		if v.ready {
			rs.Failures = 0
		}
		active = append(active, v)
	}
	diff := int(rs.Replicas) - len(active)
	if obs.unknown(rs.Pods) {
		diff = 0 // act once every pod's status is known
	}
	switch {
	case diff > 0:
		if rs.Failures > 0 {
			if d := jobpolicy.Backoff(rs.Failures, rs.LastFailure, e.now); d > 0 {
				res.wakeIn(d)
				diff = 0
			}
		}
		owner := controllerRef("apps/v1", "ReplicaSet", rs.Name, rs.UID)
		for range diff {
			p := podFromTemplate(&rs.Template, namespace, rs.Name+"-", e, owner, map[string]string{podTemplateHashLabel: rs.Hash}, nil)
			active = append(active, view{pod: p, phase: v1.PodPending})
			res.event(v1.EventTypeNormal, "ReplicaSet", rs.Name, "SuccessfulCreate", "Created pod: %s", p.Name)
		}
	case diff < 0:
		sort.SliceStable(active, func(i, j int) bool { return lessValuable(active[i], active[j]) })
		for _, v := range active[:-diff] {
			res.event(v1.EventTypeNormal, "ReplicaSet", rs.Name, "SuccessfulDelete", "Deleted pod: %s", v.pod.Name)
		}
		active = active[-diff:]
	}
	rs.Pods = rs.Pods[:0]
	for _, v := range active {
		p := v.pod
		p.Status = v1.PodStatus{}
		rs.Pods = append(rs.Pods, p)
	}
	sort.Slice(rs.Pods, func(i, j int) bool { return rs.Pods[i].Name < rs.Pods[j].Name })
}

// podTemplateHashLabel is the label that ties a ReplicaSet's pods to it.
const podTemplateHashLabel = "pod-template-hash"

// lessValuable orders pods as the ReplicaSet controller deletes them
// (ActivePodsWithRanks): not yet running before running, not ready before
// ready, ready for less time before longer, more restarts before fewer,
// newer before older.
func lessValuable(a, b view) bool {
	rank := func(v view) int {
		switch {
		case !v.seen:
			return 0
		case v.phase == v1.PodPending:
			return 1
		case v.phase == v1.PodUnknown:
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	if a.ready != b.ready {
		return !a.ready
	}
	if a.ready && !a.readyAt.Equal(b.readyAt) {
		return a.readyAt.After(b.readyAt)
	}
	if a.restarts != b.restarts {
		return a.restarts > b.restarts
	}
	if !a.pod.CreationTimestamp.Equal(&b.pod.CreationTimestamp) {
		return a.pod.CreationTimestamp.After(b.pod.CreationTimestamp.Time)
	}
	return a.pod.Name > b.pod.Name
}
