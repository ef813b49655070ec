package cluster

import (
	"context"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// objectRef names a ConfigMap or Secret a pod reads.
type objectRef struct {
	kind, namespace, name string
}

// objectWatch is a watch of one object, as the kubelet's watch-based
// manager keeps one per ConfigMap and Secret its pods read: the Node
// authorizer lets a node list and watch only those, by name.
type objectWatch struct {
	store   cache.Store
	stop    context.CancelFunc
	synced  func() bool // the first list is in the store
	started time.Time
}

// firstObjectWait is how long a new pod waits for the first list of an
// object it reads, as the kubelet's watch-based manager waits for its
// reflector before a volume is set up (there 1 s); minilet allows for the
// Node authorizer learning of the pod's binding a moment late (the list
// is then Forbidden and retried). After it the pod starts, and a missing
// object is reported as FailedMount.
const firstObjectWait = 5 * time.Second

// objectWatches keeps a watch of every object the node's pods read, and
// calls changed when one changes.
type objectWatches struct {
	client  kubernetes.Interface
	changed func()

	mu      sync.Mutex
	watches map[objectRef]*objectWatch
}

func newObjectWatches(client kubernetes.Interface, changed func()) *objectWatches {
	return &objectWatches{client: client, changed: changed, watches: map[objectRef]*objectWatch{}}
}

// ensure watches exactly refs: new ones are started, the others stopped.
func (o *objectWatches) ensure(ctx context.Context, refs map[objectRef]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for r, w := range o.watches {
		if !refs[r] {
			w.stop()
			delete(o.watches, r)
		}
	}
	for r := range refs {
		if _, ok := o.watches[r]; !ok {
			o.watches[r] = o.start(ctx, r)
		}
	}
}

func (o *objectWatches) start(parent context.Context, r objectRef) *objectWatch {
	ctx, cancel := context.WithCancel(parent)
	sel := fields.OneTermEqualSelector("metadata.name", r.name).String()
	var lw *cache.ListWatch
	var obj runtime.Object
	switch r.kind {
	case "ConfigMap":
		c := o.client.CoreV1().ConfigMaps(r.namespace)
		obj, lw = &v1.ConfigMap{}, byName(sel, c.List, c.Watch)
	default:
		c := o.client.CoreV1().Secrets(r.namespace)
		obj, lw = &v1.Secret{}, byName(sel, c.List, c.Watch)
	}
	notify := func(any) { o.changed() }
	store, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw, ObjectType: obj,
		Handler: cache.ResourceEventHandlerFuncs{AddFunc: notify, UpdateFunc: func(_, n any) { notify(n) }, DeleteFunc: notify},
	})
	go ctrl.RunWithContext(ctx)
	go func() {
		// A pod held for this first list is looked at again once it
		// is in, or once it is no longer waited for.
		timer := time.NewTimer(firstObjectWait)
		defer timer.Stop()
		done := make(chan struct{})
		go func() { cache.WaitForCacheSync(ctx.Done(), ctrl.HasSynced); close(done) }()
		select {
		case <-done:
		case <-timer.C:
		}
		if ctx.Err() == nil {
			o.changed()
		}
	}()
	return &objectWatch{store: store, stop: cancel, synced: ctrl.HasSynced, started: time.Now()}
}

// waiting reports whether a watch of refs has not had its first list yet,
// for less than firstObjectWait.
func (o *objectWatches) waiting(refs []objectRef, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range refs {
		if w, ok := o.watches[r]; ok && !w.synced() && now.Sub(w.started) < firstObjectWait {
			return true
		}
	}
	return false
}

// byName is a ListWatch of list and watch with the field selector sel.
func byName[L runtime.Object](sel string, list func(context.Context, metav1.ListOptions) (L, error), watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = sel
			return list(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = sel
			return watchFn(ctx, opts)
		},
	}
}

// objects returns the watched objects that exist now.
func (o *objectWatches) objects() []any {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []any
	for _, w := range o.watches {
		out = append(out, w.store.List()...)
	}
	return out
}

// stopAll stops every watch.
func (o *objectWatches) stopAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for r, w := range o.watches {
		w.stop()
		delete(o.watches, r)
	}
}
