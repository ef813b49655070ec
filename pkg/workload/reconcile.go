package workload

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// env is what a controller's pass needs besides the record and the
// observed pods: the time, and where new names and UIDs come from (random
// in the daemon, fixed in tests).
type env struct {
	now  time.Time
	name func(prefix string) string // the API server's generateName
	uid  func() types.UID
}

// Event is one thing a controller did or saw, as `describe` shows it.
type Event struct {
	Type    string // Normal or Warning
	Reason  string
	Message string
	// Kind and Name of the object it is about (a Deployment's event may be
	// about one of its ReplicaSets); the namespace is the workload's.
	Kind, Name string
	Time       time.Time
}

// result is what one pass of a controller says besides the record it
// changed in place.
type result struct {
	events []Event
	// wake: pass again after this long even if nothing changes (0: no
	// need).
	wake time.Duration
}

func (r *result) event(typ, kind, name, reason, format string, args ...any) {
	r.events = append(r.events, Event{Type: typ, Reason: reason, Message: fmt.Sprintf(format, args...), Kind: kind, Name: name})
}

// wakeIn asks for a pass after d, keeping the soonest wake.
func (r *result) wakeIn(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if r.wake == 0 || d < r.wake {
		r.wake = d
	}
}

// podFromTemplate is the pod a controller makes: the template's labels and
// annotations plus the controller's, an owner reference, a generated name.
func podFromTemplate(t *v1.PodTemplateSpec, namespace, prefix string, e *env, owner metav1.OwnerReference, labels, annotations map[string]string) v1.Pod {
	p := v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              e.name(prefix),
			GenerateName:      prefix,
			Namespace:         namespace,
			UID:               e.uid(),
			CreationTimestamp: metav1.NewTime(e.now.Truncate(time.Second)),
			Labels:            map[string]string{},
			OwnerReferences:   []metav1.OwnerReference{owner},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	for k, v := range t.Labels {
		p.Labels[k] = v
	}
	for k, v := range labels {
		p.Labels[k] = v
	}
	if len(t.Annotations)+len(annotations) > 0 {
		p.Annotations = map[string]string{}
		for k, v := range t.Annotations {
			p.Annotations[k] = v
		}
		for k, v := range annotations {
			p.Annotations[k] = v
		}
	}
	return p
}

// controllerRef is the owner reference a controller puts on what it makes.
func controllerRef(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: &yes, BlockOwnerDeletion: &yes}
}
