package probetest

import (
	"sync"

	"github.com/minilet/minilet/pkg/probe"
)

// Event is an event an Events recorder was told.
type Event struct {
	Target                probe.Target
	Type, Reason, Message string
}

// Events is a probe.EventRecorder that keeps every event.
type Events struct {
	mu     sync.Mutex
	events []Event
}

// Event records an event.
func (e *Events) Event(t probe.Target, eventType, reason, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, Event{Target: t, Type: eventType, Reason: reason, Message: message})
}

// List returns the events recorded so far.
func (e *Events) List() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.events...)
}
