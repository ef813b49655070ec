package cluster

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// EventSink sends the events of API pods and of the node to the API
// server, through client-go's event broadcaster (which folds repeats into
// counts and rate-limits, as for the kubelet), with the kubelet's source:
// component "kubelet", host the node, so that `kubectl describe` and
// tools that select the kubelet's events find them. It never blocks: when
// its queue is full an event is dropped. It is the pod.EventSink and the
// node.EventSink of cluster mode.
type EventSink struct {
	b   record.EventBroadcaster
	rec record.EventRecorder
}

// NewEventSink starts a broadcaster to client's API server; it stops
// when ctx ends.
func NewEventSink(ctx context.Context, client kubernetes.Interface, node string) *EventSink {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &EventSink{b: b, rec: b.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: node})}
}

// Event sends one event about object.
func (s *EventSink) Event(object v1.ObjectReference, annotations map[string]string, typ, reason, message string) {
	s.rec.AnnotatedEventf(&object, annotations, typ, reason, "%s", message)
}
