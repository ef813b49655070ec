package pod

import (
	"context"
	"sync/atomic"
	"time"
)

// startSlots bounds how many pod sandboxes (record, directories, netns,
// CNI ADD, pause) are made at once. On a small host a burst of pods all
// made together only contend for the cores: each takes longer, and the
// contention itself costs CPU (on 2 cores, 30 pods at once cost 205 ms of
// CPU per pod made all together against 181 ms four at a time). In turns,
// the first pods run while the last are still waiting. A pod that waits
// longer than maxWait goes on without a slot, so pods stuck in a plugin
// cannot hold the others back for long.
type startSlots struct {
	ch      chan struct{}
	maxWait time.Duration
	waiting atomic.Int32 // pods waiting for a slot (tests)
}

// slotMaxWait is how long a pod waits for a slot before it goes on.
const slotMaxWait = 10 * time.Second

// newStartSlots returns nil (no bound) for n <= 0.
func newStartSlots(n int, maxWait time.Duration) *startSlots {
	if n <= 0 {
		return nil
	}
	return &startSlots{ch: make(chan struct{}, n), maxWait: maxWait}
}

// acquire waits for a slot, at most maxWait, and returns what releases
// it (a no-op when it went on without one).
func (s *startSlots) acquire(ctx context.Context) (func(), error) {
	if s == nil {
		return func() {}, nil
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch }, nil
	default:
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	t := time.NewTimer(s.maxWait)
	defer t.Stop()
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch }, nil
	case <-t.C:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
