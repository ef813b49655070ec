package cluster

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/podvolume"
)

// APIState is the part of the desired state that comes from the API
// server: the pods bound to this node, and the ConfigMaps, Secrets and
// service account tokens they read.
type APIState struct {
	// Synced is false until the pods bound to this node are known: until
	// then no pod from the API server may be stopped.
	Synced  bool
	Pods    []manifest.Pod
	Objects []manifest.Object
	// Held are pods left out of Pods for now without being stopped
	// (manifest.APIFile names): their first service account token, or
	// the first list of a ConfigMap or Secret they read, is on its way
	// (the kubelet waits for both while it sets up the volumes), so a
	// new pod does not start to a FailedMount warning.
	Held []string
}

// tokenCheck is how often the tokens are looked at for rotation.
const tokenCheck = 10 * time.Second

// APIPods turns the pods the scheduler bound to this node into desired
// pods for the pod manager, with the objects they read watched one by one
// and their service account tokens requested and rotated.
type APIPods struct {
	node string
	log  *zap.Logger

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	synced  cache.InformerSynced
	objects *objectWatches
	tokens  *tokenManager
	trigger chan struct{}

	mu      sync.Mutex
	refused map[types.UID]string // pods minilet cannot run, and why
}

// NewAPIPods returns the source of node's API pods; factory is
// NewPodInformers's.
func NewAPIPods(node string, client kubernetes.Interface, factory informers.SharedInformerFactory, log *zap.Logger) *APIPods {
	inf := factory.Core().V1().Pods()
	a := &APIPods{node: node, log: log, factory: factory, lister: inf.Lister(), synced: inf.Informer().HasSynced,
		trigger: make(chan struct{}, 1), refused: map[types.UID]string{}}
	a.objects = newObjectWatches(client, a.wake)
	a.tokens = newTokenManager(client, log, a.wake)
	wake := func(obj any) {
		if p, ok := obj.(*v1.Pod); ok && isMirror(p) {
			return
		}
		a.wake()
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    wake,
		UpdateFunc: func(_, cur any) { wake(cur) },
		DeleteFunc: func(any) { a.wake() },
	})
	return a
}

func (a *APIPods) wake() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Run sends the API state on out whenever it changes, until ctx ends; the
// first one (not Synced) at once.
func (a *APIPods) Run(ctx context.Context, out chan<- APIState) {
	defer a.objects.stopAll()
	a.factory.Start(ctx.Done())
	t := time.NewTicker(tokenCheck)
	defer t.Stop()
	var last string
	first := true
	for {
		st := a.state(ctx)
		if v := stateVersion(st); first || v != last {
			select {
			case out <- st:
				first, last = false, v
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.trigger:
		case <-t.C:
		}
	}
}

// state builds the API state from the informer's pods and the watches.
func (a *APIPods) state(ctx context.Context) APIState {
	if !a.synced() {
		return APIState{}
	}
	all, err := a.lister.List(labels.Everything())
	if err != nil {
		return APIState{}
	}
	pods, refused := desiredAPIPods(a.node, all)
	a.mu.Lock()
	for uid, why := range refused {
		if a.refused[uid] != why {
			a.log.Warn("pod from the API server cannot run here", zap.String("uid", string(uid)), zap.String("reason", why))
		}
	}
	a.refused = refused
	a.mu.Unlock()
	refs := map[objectRef]bool{}
	podRefs := map[types.UID][]objectRef{}
	var running []*v1.Pod
	for _, p := range pods {
		if p.KeepOnly {
			continue // ended: it reads no object and needs no token any more
		}
		running = append(running, p.Pod)
		for _, r := range podvolume.Refs(p.Pod) {
			if r.Kind == "PersistentVolumeClaim" || podvolume.IsTokenSecretName(r.Name) {
				continue
			}
			ref := objectRef{kind: r.Kind, namespace: p.Pod.Namespace, name: r.Name}
			refs[ref] = true
			podRefs[p.Pod.UID] = append(podRefs[p.Pod.UID], ref)
		}
	}
	a.objects.ensure(ctx, refs)
	items := a.objects.objects()
	for _, s := range a.tokens.secrets(ctx, running) {
		items = append(items, s)
	}
	objs := manifest.ObjectsOf(items...)
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key() < objs[j].Key() })
	st := APIState{Synced: true, Objects: objs}
	now := time.Now()
	for _, p := range pods {
		if !p.KeepOnly && (a.tokens.awaiting(p.Pod) || a.objects.waiting(podRefs[p.Pod.UID], now)) {
			st.Held = append(st.Held, p.File)
			continue
		}
		st.Pods = append(st.Pods, p)
	}
	return st
}

// Refused tells why minilet cannot run the API pod uid ("" if it can).
func (a *APIPods) Refused(uid types.UID) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused[uid]
}

// desiredAPIPods picks, from the pods bound to node, those to run: not
// mirror pods. One that ended (Succeeded or Failed in the API) is only
// kept where it is (its logs stay readable until it is deleted), never
// started again, as on the kubelet. A pod minilet cannot run is refused,
// with the reason.
func desiredAPIPods(node string, all []*v1.Pod) ([]manifest.Pod, map[types.UID]string) {
	var out []manifest.Pod
	refused := map[types.UID]string{}
	for _, p := range all {
		if isMirror(p) || p.Spec.NodeName != node {
			continue
		}
		mp, err := manifest.FromAPI(p)
		if err != nil {
			refused[p.UID] = err.Error()
			continue
		}
		mp.KeepOnly = p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
		out = append(out, mp)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Pod, out[j].Pod
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out, refused
}

// stateVersion identifies an APIState's content, to send only changes.
func stateVersion(s APIState) string {
	v := ""
	if s.Synced {
		v = "synced;"
	}
	for _, p := range s.Pods {
		v += p.Hash + ";"
		if p.KeepOnly {
			v += "keep-only;"
		}
	}
	for _, o := range s.Objects {
		v += o.Key() + "=" + o.Hash + ";"
	}
	return v
}
