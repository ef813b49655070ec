package pod

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// maxEvents bounds the events kept per pod.
const maxEvents = 64

// eventLog keeps a pod's recent events in memory, folding repeats of the
// same type, reason and message into one event with a count, like the
// kubelet's event recorder.
type eventLog struct {
	mu     sync.Mutex
	events []v1.Event
	now    func() time.Time
	object v1.ObjectReference
	sink   EventSink // nil: the events stay here
}

// newEventLog is the event log of pod. Each event of a pod from an API
// server is also handed to sink (when not nil): cluster mode sends it
// there, where `kubectl describe pod` finds it, as the kubelet's. A file's
// pod keeps its events here: its mirror pod has another UID, which the
// kubelet's events of static pods do not carry either.
func newEventLog(pod *v1.Pod, now func() time.Time, sink EventSink) *eventLog {
	l := &eventLog{now: now, object: v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
	}}
	if manifest.IsAPIPod(pod) {
		l.sink = sink
	}
	return l
}

func (l *eventLog) record(typ, reason, message string, container string) {
	l.add(typ, reason, message, container, nil)
}

// recordAnnotated records an event of the pod with annotations (the
// kubelet's Evicted event carries the offending containers in them).
func (l *eventLog) recordAnnotated(typ, reason, message string, annotations map[string]string) {
	l.add(typ, reason, message, "", annotations)
}

func (l *eventLog) add(typ, reason, message string, container string, annotations map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := metav1.NewTime(l.now())
	obj := l.object
	if container != "" {
		obj.FieldPath = "spec.containers{" + container + "}"
	}
	if l.sink != nil {
		l.sink.Event(obj, annotations, typ, reason, message)
	}
	for i := range l.events {
		e := &l.events[i]
		if e.Type == typ && e.Reason == reason && e.Message == message && e.InvolvedObject.FieldPath == obj.FieldPath {
			e.Count++
			e.LastTimestamp = now
			// Move it to the end, so the list stays ordered by last time.
			ev := *e
			l.events = append(append(l.events[:i:i], l.events[i+1:]...), ev)
			return
		}
	}
	l.events = append(l.events, v1.Event{
		TypeMeta:       metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta:     metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Name + "." + reason, Annotations: annotations},
		InvolvedObject: obj,
		Type:           typ,
		Reason:         reason,
		Message:        message,
		Count:          1,
		FirstTimestamp: now,
		LastTimestamp:  now,
		Source:         v1.EventSource{Component: "minilet"},
	})
	if len(l.events) > maxEvents {
		l.events = append([]v1.Event(nil), l.events[len(l.events)-maxEvents:]...)
	}
}

func (l *eventLog) list() []v1.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]v1.Event(nil), l.events...)
}
