package node

import (
	"sync"

	v1 "k8s.io/api/core/v1"
)

// ConditionTracker remembers a node's conditions from one Build to the
// next, so that lastTransitionTime says when a condition last changed
// status rather than when it was last computed. The zero value is ready
// to use; it is safe for concurrent use.
type ConditionTracker struct {
	mu   sync.Mutex
	last map[v1.NodeConditionType]v1.NodeCondition
}

// Track gives each condition of n whose status has not changed since the
// last call the transition time it had then, and remembers n's
// conditions.
func (t *ConditionTracker) Track(n *v1.Node) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := make(map[v1.NodeConditionType]v1.NodeCondition, len(n.Status.Conditions))
	for i := range n.Status.Conditions {
		c := &n.Status.Conditions[i]
		if prev, ok := t.last[c.Type]; ok && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		next[c.Type] = *c
	}
	t.last = next
}
