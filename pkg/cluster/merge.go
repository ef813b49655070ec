package cluster

import (
	"context"
	"sort"

	"go.uber.org/zap"

	"github.com/minilet/minilet/pkg/manifest"
)

// Merge sends on out each file State (the manifest directory and its
// workloads, from files) merged with the latest API state (from api),
// whenever either changes, until ctx ends. Nothing is sent before the
// first file State.
func Merge(ctx context.Context, files <-chan manifest.State, api <-chan APIState, out chan<- manifest.State, log *zap.Logger) error {
	var (
		f        manifest.State
		haveFile bool
		a        APIState
		warned   = map[string]bool{}
	)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f = <-files:
			haveFile = true
		case a = <-api:
		}
		if !haveFile {
			continue
		}
		st, shadowed := mergeStates(f, a)
		for _, key := range shadowed {
			if !warned[key] {
				warned[key] = true
				log.Warn("a pod or object from the API server has the namespace and name of one from the manifest directory; the file's is used", zap.String("object", key))
			}
		}
		select {
		case out <- st:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// mergeStates adds the API state to the file state. A pod or object of
// the same namespace and name as one from a file is left out (the file's
// wins; shadowed names them). Until the API state is synced, every API
// pod is held: none is stopped for being missing.
func mergeStates(f manifest.State, a APIState) (manifest.State, []string) {
	out := f
	out.Pods = append([]manifest.Pod(nil), f.Pods...)
	out.Objects = append([]manifest.Object(nil), f.Objects...)
	out.HeldFiles = append([]string(nil), f.HeldFiles...)
	var shadowed []string
	pods := map[string]bool{}
	for _, p := range f.Pods {
		pods[p.Pod.Namespace+"/"+p.Pod.Name] = true
	}
	for _, p := range a.Pods {
		key := p.Pod.Namespace + "/" + p.Pod.Name
		if pods[key] {
			shadowed = append(shadowed, "pod "+key)
			continue
		}
		out.Pods = append(out.Pods, p)
	}
	objs := map[string]bool{}
	for _, o := range f.Objects {
		objs[o.Key()] = true
	}
	for _, o := range a.Objects {
		if objs[o.Key()] {
			shadowed = append(shadowed, o.Key())
			continue
		}
		out.Objects = append(out.Objects, o)
	}
	if !a.Synced {
		out.HeldFiles = append(out.HeldFiles, manifest.HeldAPIPods)
	}
	out.HeldFiles = append(out.HeldFiles, a.Held...)
	sort.Slice(out.Pods, func(i, j int) bool {
		x, y := out.Pods[i].Pod, out.Pods[j].Pod
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Key() < out.Objects[j].Key() })
	sort.Strings(out.HeldFiles)
	return out, shadowed
}
