package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A pod waits for the first list of the objects it reads: while the list
// is refused (the Node authorizer's lag) for firstObjectWait at most, and
// no longer once it is in, whether the object exists or not; the pods
// are looked at again (changed) when it is in.
func TestObjectWatchWaitsForFirstList(t *testing.T) {
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "present"}}
	client := fake.NewSimpleClientset(cm)
	var refuse atomic.Bool
	refuse.Store(true)
	client.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, k8sruntime.Object, error) {
		if refuse.Load() {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "", errors.New("no relationship found between node and this object"))
		}
		return false, nil, nil
	})
	var changes atomic.Int32
	o := newObjectWatches(client, func() { changes.Add(1) })
	defer o.stopAll()
	present := objectRef{kind: "ConfigMap", namespace: "default", name: "present"}
	missing := objectRef{kind: "ConfigMap", namespace: "default", name: "missing"}
	o.ensure(context.Background(), map[objectRef]bool{present: true, missing: true})
	if !o.waiting([]objectRef{present}, time.Now()) {
		t.Fatal("not waiting while the list is refused")
	}
	if o.waiting([]objectRef{present}, time.Now().Add(firstObjectWait+time.Second)) {
		t.Fatal("still waiting after firstObjectWait")
	}
	if o.waiting(nil, time.Now()) {
		t.Fatal("a pod that reads nothing waits")
	}
	refuse.Store(false)
	waitFor(t, "both first lists", func() bool {
		return !o.waiting([]objectRef{present, missing}, time.Now())
	})
	waitFor(t, "a change notified", func() bool { return changes.Load() > 0 })
	// (The fake client ignores field selectors: each watch lists it.)
	if got := o.objects(); len(got) == 0 || got[0].(*v1.ConfigMap).Name != "present" {
		t.Fatalf("objects %v", got)
	}
}
