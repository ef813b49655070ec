package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd"
	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/events"
	"github.com/containerd/typeurl/v2"
)

// startClock times starts from outside every program under test: it reads
// containerd's own event stream and keeps, for each container, the
// timestamp of its TaskStart event (set by containerd when the shim
// reports the task started). minilet's figures and the floors' end on the
// same clock, and nothing has to poll minilet's API while it works.
type startClock struct {
	client *containerd.Client
	cancel context.CancelFunc

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every event
	starts  map[string]taskStart
	err     error
}

// taskStart is one TaskStart event.
type taskStart struct {
	namespace string
	id        string
	at        time.Time
}

func newStartClock(ctx context.Context, address string) (*startClock, error) {
	client, err := containerd.New(address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &startClock{client: client, cancel: cancel, changed: make(chan struct{}), starts: map[string]taskStart{}}
	evs, errs := client.Subscribe(ctx, `topic=="/tasks/start"`)
	go c.pump(ctx, evs, errs)
	return c, nil
}

func (c *startClock) pump(ctx context.Context, evs <-chan *events.Envelope, errs <-chan error) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-errs:
			c.mu.Lock()
			if c.err == nil && ctx.Err() == nil {
				c.err = fmt.Errorf("containerd event stream: %w", err)
			}
			c.notifyLocked()
			c.mu.Unlock()
			return
		case env := <-evs:
			if env == nil || env.Event == nil {
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				continue
			}
			e, ok := v.(*apievents.TaskStart)
			if !ok {
				continue
			}
			c.mu.Lock()
			c.starts[env.Namespace+"/"+e.ContainerID] = taskStart{namespace: env.Namespace, id: e.ContainerID, at: env.Timestamp}
			c.notifyLocked()
			c.mu.Unlock()
		}
	}
}

func (c *startClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait returns the TaskStart times of the containers of namespace that
// match (their IDs), once there are want of them after since.
func (c *startClock) wait(ctx context.Context, namespace string, since time.Time, want int, match func(id string) bool, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		got := map[string]time.Time{}
		for _, s := range c.starts {
			if s.namespace == namespace && !s.at.Before(since) && match(s.id) {
				got[s.id] = s.at
			}
		}
		err, changed := c.err, c.changed
		c.mu.Unlock()
		if len(got) >= want {
			return got, nil
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("%d of %d containers started within %v", len(got), want, timeout)
		}
	}
}

// forget drops what the clock saw so far (between runs).
func (c *startClock) forget() {
	c.mu.Lock()
	c.starts = map[string]taskStart{}
	c.mu.Unlock()
}

func (c *startClock) close() {
	if c == nil {
		return
	}
	c.cancel()
	c.client.Close()
}

// latest is the latest of the times.
func latest(ts map[string]time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if t.After(last) {
			last = t
		}
	}
	return last
}
