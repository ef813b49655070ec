// Package rollout is the arithmetic of a Deployment's rolling update as
// the deployment controller does it (pkg/controller/deployment/rolling.go
// of Kubernetes): how far the new ReplicaSet may grow and the old ones
// shrink in one sync, bounded by maxSurge and maxUnavailable. It is pure.
package rollout

import (
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// ReplicaSet is what the arithmetic needs of one ReplicaSet.
type ReplicaSet struct {
	Name      string
	Created   time.Time
	Replicas  int32 // spec.replicas
	Available int32 // status.availableReplicas
}

// Fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against replicas; when both come to zero, one pod may be
// unavailable, as the controller decides (surge might be impossible).
func Fenceposts(maxSurge, maxUnavailable *intstr.IntOrString, replicas int32) (surge, unavailable int32, err error) {
	zero := intstr.FromInt32(0)
	s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxSurge, zero), int(replicas), true)
	if err != nil {
		return 0, 0, err
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxUnavailable, zero), int(replicas), false)
	if err != nil {
		return 0, 0, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// Step is one sync of a rolling update: the replicas the new ReplicaSet
// and each old one (by name) should have now. As the controller, it first
// grows (or trims) the new ReplicaSet; only when that changes nothing
// does it shrink old ones: unhealthy old pods first, then available ones
// while more than replicas - maxUnavailable stay available.
func Step(replicas int32, maxSurge, maxUnavailable *intstr.IntOrString, newRS ReplicaSet, old []ReplicaSet) (int32, map[string]int32, error) {
	out := map[string]int32{}
	for _, rs := range old {
		out[rs.Name] = rs.Replicas
	}
	surge, unavailable, err := Fenceposts(maxSurge, maxUnavailable, replicas)
	if err != nil {
		return 0, nil, err
	}
	unavailable = min(unavailable, replicas)

	total := newRS.Replicas
	for _, rs := range old {
		total += rs.Replicas
	}
	// The new ReplicaSet.
	switch {
	case newRS.Replicas > replicas:
		return replicas, out, nil
	case newRS.Replicas < replicas:
		if maxTotal := replicas + surge; total < maxTotal {
			grow := min(maxTotal-total, replicas-newRS.Replicas)
			return newRS.Replicas + grow, out, nil
		}
	}

	// The old ones, oldest first.
	olds := append([]ReplicaSet(nil), old...)
	sort.SliceStable(olds, func(i, j int) bool {
		if !olds[i].Created.Equal(olds[j].Created) {
			return olds[i].Created.Before(olds[j].Created)
		}
		return olds[i].Name < olds[j].Name
	})
	minAvailable := replicas - unavailable
	maxDown := total - minAvailable - (newRS.Replicas - newRS.Available)
	if maxDown <= 0 {
		return newRS.Replicas, out, nil
	}
	// Unhealthy pods of old ReplicaSets go first: they serve nothing.
	cleaned := int32(0)
	for i := range olds {
		rs := &olds[i]
		if cleaned >= maxDown || rs.Replicas == 0 || rs.Replicas == rs.Available {
			continue
		}
		n := min(maxDown-cleaned, rs.Replicas-rs.Available)
		rs.Replicas -= n
		cleaned += n
	}
	// Then available ones, while enough stay available.
	available := newRS.Available
	for _, rs := range olds {
		available += rs.Available
	}
	if available > minAvailable {
		left := available - minAvailable
		for i := range olds {
			rs := &olds[i]
			if left == 0 {
				break
			}
			if rs.Replicas == 0 {
				continue
			}
			n := min(rs.Replicas, left)
			rs.Replicas -= n
			left -= n
		}
	}
	for _, rs := range olds {
		out[rs.Name] = rs.Replicas
	}
	return newRS.Replicas, out, nil
}
