package node

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxNodeEvents bounds the node's event log; the oldest go first.
const maxNodeEvents = 100

// EventLog keeps the node's recent events (ImageGCFailed,
// FreeDiskSpaceFailed, ...), as the kubelet records them on its Node; a
// repeat of the last event of the same reason and message counts up
// instead of adding one. It is safe for concurrent use.
type EventLog struct {
	name string
	now  func() time.Time

	mu     sync.Mutex
	events []v1.Event
}

// NewEventLog returns the event log of the node name.
func NewEventLog(name string, now func() time.Time) *EventLog {
	if now == nil {
		now = time.Now
	}
	return &EventLog{name: name, now: now}
}

// Record adds an event of type typ (Normal, Warning).
func (l *EventLog) Record(typ, reason, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := metav1.NewTime(l.now())
	for i := len(l.events) - 1; i >= 0; i-- {
		e := &l.events[i]
		if e.Reason == reason && e.Message == message && e.Type == typ {
			e.Count++
			e.LastTimestamp = now
			return
		}
	}
	l.events = append(l.events, v1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: l.name + "." + reason, Namespace: "default"},
		InvolvedObject: v1.ObjectReference{Kind: "Node", Name: l.name, UID: "", APIVersion: "v1"},
		Reason:         reason, Message: message, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source: v1.EventSource{Component: "minilet", Host: l.name},
	})
	if len(l.events) > maxNodeEvents {
		l.events = l.events[len(l.events)-maxNodeEvents:]
	}
}

// Events returns the events, oldest first.
func (l *EventLog) Events() []v1.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]v1.Event(nil), l.events...)
}
