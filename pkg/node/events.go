package node

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	sink EventSink // nil: the events stay here

	mu     sync.Mutex
	events []v1.Event
}

// EventSink takes events to where an API server's users see them
// (cluster.EventSink). It must not block.
type EventSink interface {
	Event(object v1.ObjectReference, annotations map[string]string, typ, reason, message string)
}

// NewEventLog returns the event log of the node name; each event is also
// handed to sink when it is not nil (cluster mode).
func NewEventLog(name string, now func() time.Time, sink EventSink) *EventLog {
	if now == nil {
		now = time.Now
	}
	return &EventLog{name: name, now: now, sink: sink}
}

// Record adds an event of type typ (Normal, Warning).
func (l *EventLog) Record(typ, reason, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := metav1.NewTime(l.now())
	if l.sink != nil {
		// As the kubelet's node reference: the UID is the node's name,
		// which kubectl describe node looks for.
		l.sink.Event(v1.ObjectReference{Kind: "Node", Name: l.name, UID: types.UID(l.name), APIVersion: "v1"}, nil, typ, reason, message)
	}
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
