package cluster

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestEventSink: an event reaches the API as the kubelet's, about the
// object it names, in that object's namespace; repeats are counted.
func TestEventSink(t *testing.T) {
	client := fake.NewClientset()
	sink := NewEventSink(t.Context(), client, "node-1")
	ref := v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "team", Name: "web", UID: "uid-1", FieldPath: "spec.containers{app}"}
	sink.Event(ref, nil, v1.EventTypeWarning, "BackOff", "Back-off restarting failed container")
	sink.Event(ref, nil, v1.EventTypeWarning, "BackOff", "Back-off restarting failed container")
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := client.CoreV1().Events("team").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 1 && l.Items[0].Count == 2 {
			e := l.Items[0]
			if e.Source.Component != "kubelet" || e.Source.Host != "node-1" || e.InvolvedObject != ref || e.Reason != "BackOff" || e.Type != v1.EventTypeWarning {
				t.Fatalf("event %+v", e)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events in the API: %+v", l.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
