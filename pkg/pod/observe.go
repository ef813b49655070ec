package pod

import (
	"context"
	"sort"
	"strconv"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// observed is what the runtime holds of one pod, in whatever state a crash
// of the daemon, of containerd or of the host left it: the pause container
// and every attempt of every container, with their tasks in any state, and
// (in a deep look) snapshots that have no container.
type observed struct {
	sandbox *runtime.Container
	byName  map[string][]runtime.Container // attempts, oldest first
	// orphanSnapshots are snapshot keys of the pod with no container: a
	// create that died between preparing the snapshot and writing the
	// container record. Filled only by a deep look.
	orphanSnapshots []string
	// predicted marks an observation the worker wrote itself rather than
	// read (a new pod's first steps), to save a round trip.
	predicted bool
}

func emptyObserved() observed {
	return observed{byName: map[string][]runtime.Container{}}
}

func (o observed) latest(name string) *runtime.Container {
	list := o.byName[name]
	if len(list) == 0 {
		return nil
	}
	return &list[len(list)-1]
}

func (o observed) previous(name string) *runtime.Container {
	list := o.byName[name]
	if len(list) < 2 {
		return nil
	}
	return &list[len(list)-2]
}

// sandboxToken is the token of the observed pause container ("" if none).
func (o observed) sandboxToken() string {
	if o.sandbox == nil {
		return ""
	}
	return o.sandbox.Labels[podsandbox.LabelSandbox]
}

// belongs reports whether c was made for the observed pause container: it
// joins that pause's namespaces. Containers made by a minilet that did not
// label sandboxes count as the sandbox's when they were made after it.
func (o observed) belongs(c *runtime.Container) bool {
	if o.sandbox == nil {
		return false
	}
	tok, ok := c.Labels[podsandbox.LabelSandbox]
	if !ok {
		return !c.CreatedAt.Before(o.sandbox.CreatedAt)
	}
	return tok == o.sandboxToken()
}

func restartCountOf(c *runtime.Container) int {
	n, _ := strconv.Atoi(c.Labels[podsandbox.LabelRestartCount])
	return n
}

// observe reads the pod's containers from the runtime; a deep look also
// lists its snapshots, to find those without a container.
func (w *worker) observe(ctx context.Context, deep bool) (observed, error) {
	cs, err := w.d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelPodID: w.podID})
	if err != nil {
		return observed{}, err
	}
	o := emptyObserved()
	known := map[string]bool{}
	for i := range cs {
		c := cs[i]
		known[c.ID] = true
		if c.Labels[podsandbox.LabelContainerType] == podsandbox.TypeSandbox {
			o.sandbox = &c
			continue
		}
		name := c.Labels[podsandbox.LabelContainerName]
		o.byName[name] = append(o.byName[name], c)
	}
	for _, list := range o.byName {
		sort.Slice(list, func(i, j int) bool { return restartCountOf(&list[i]) < restartCountOf(&list[j]) })
	}
	if deep {
		keys, err := w.d.rt.ListSnapshots(ctx, w.podID+"-")
		if err != nil {
			return observed{}, err
		}
		for _, k := range keys {
			if !known[k] {
				o.orphanSnapshots = append(o.orphanSnapshots, k)
			}
		}
		sort.Strings(o.orphanSnapshots)
	}
	return o, nil
}
