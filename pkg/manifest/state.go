package manifest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// buildState makes the next State from this scan's files and the State sent
// before. It is pure: no I/O, no clock.
//
//   - A usable file contributes its pods and objects.
//   - A file that cannot be used (files[i].err) is held: its pods and
//     objects of the previous State stay as they were, and it is listed in
//     Errors and HeldFiles.
//   - A deleted file is gone, and so are its pods and objects.
//   - Two files defining the same kind and namespace/name: the file that
//     had it in the previous State keeps it; otherwise the file that sorts
//     first wins. The other file is refused whole (and held) with an error
//     naming both.
//   - A file that changes the data of an object that was immutable in the
//     previous State is refused whole (and held), as the API server
//     refuses such an update.
func buildState(files []fileResult, prev State) State {
	prevPods := map[string][]Pod{} // file → its pods in prev
	for _, p := range prev.Pods {
		prevPods[p.File] = append(prevPods[p.File], p)
	}
	prevObjs := map[string][]Object{} // file → its objects in prev
	prevByKey := map[string]Object{}
	for _, o := range prev.Objects {
		prevObjs[o.File] = append(prevObjs[o.File], o)
		prevByKey[o.Key()] = o
	}
	prevWls := map[string][]Workload{} // file → its workloads in prev
	for _, w := range prev.Workloads {
		prevWls[w.File] = append(prevWls[w.File], w)
	}
	refused := map[string]error{}
	for i := range files {
		if f := &files[i]; f.err == nil {
			if err := immutableChange(f.objects, prevByKey); err != nil {
				refused[f.path] = err
			}
		}
	}
	usable := func(f *fileResult) bool { return f.err == nil && refused[f.path] == nil }

	// Refusing a file makes its previous pods and objects stay, which can
	// take a name another file just claimed: start over until nothing
	// more is refused. Each round refuses one more file or ends.
	for {
		// reserved: names a file keeps from the previous State.
		reserved := map[string]string{}
		for i := range files {
			f := &files[i]
			now := f.keys()
			for _, k := range keysOf(prevPods[f.path], prevObjs[f.path], prevWls[f.path]) {
				if !usable(f) || now[k] {
					reserved[k] = f.path
				}
			}
		}
		claimed := map[string]string{}
		again := false
		for i := range files {
			f := &files[i]
			if !usable(f) {
				continue
			}
			keys := keysOf(f.pods, f.objects, f.workloads)
			for _, k := range keys {
				owner, taken := reserved[k]
				if !taken || owner == f.path {
					owner, taken = claimed[k]
				}
				if taken && owner != f.path {
					refused[f.path] = fmt.Errorf("%s is already defined in %s; this file is refused until the conflict is resolved (rename it or remove one of the files)", lowerKind(k), owner)
					again = true
					break
				}
			}
			if again {
				break
			}
			for _, k := range keys {
				claimed[k] = f.path
			}
		}
		if !again {
			break
		}
	}

	var st State
	for i := range files {
		f := &files[i]
		if usable(f) {
			st.Pods = append(st.Pods, f.pods...)
			st.Objects = append(st.Objects, f.objects...)
			st.Workloads = append(st.Workloads, f.workloads...)
			continue
		}
		err := f.err
		if err == nil {
			err = refused[f.path]
		}
		st.Pods = append(st.Pods, prevPods[f.path]...)
		st.Objects = append(st.Objects, prevObjs[f.path]...)
		st.Workloads = append(st.Workloads, prevWls[f.path]...)
		st.Errors = append(st.Errors, FileError{File: f.path, Err: err})
		st.HeldFiles = append(st.HeldFiles, f.path)
	}
	slices.SortFunc(st.Pods, func(a, b Pod) int {
		if c := strings.Compare(a.Pod.Namespace, b.Pod.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Pod.Name, b.Pod.Name)
	})
	slices.SortFunc(st.Objects, func(a, b Object) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortFunc(st.Workloads, func(a, b Workload) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortFunc(st.Errors, func(a, b FileError) int { return strings.Compare(a.File, b.File) })
	slices.Sort(st.HeldFiles)
	return st
}

// keys returns the set of the file's pod and object keys.
func (f *fileResult) keys() map[string]bool {
	out := map[string]bool{}
	for _, k := range keysOf(f.pods, f.objects, f.workloads) {
		out[k] = true
	}
	return out
}

// keysOf names pods ("Pod <namespace>/<name>"), objects (Object.Key) and
// workloads (Workload.Key).
func keysOf(pods []Pod, objs []Object, wls []Workload) []string {
	out := make([]string, 0, len(pods)+len(objs)+len(wls))
	for _, w := range wls {
		out = append(out, w.Key())
	}
	for _, p := range pods {
		out = append(out, "Pod "+podKey(p.Pod))
	}
	for _, o := range objs {
		out = append(out, o.Key())
	}
	return out
}

// immutableChange refuses a change of data of an object that was
// immutable before.
func immutableChange(objs []Object, prev map[string]Object) error {
	for _, o := range objs {
		old, ok := prev[o.Key()]
		if !ok || !old.immutable() || o.Hash == old.Hash {
			continue
		}
		same := false
		switch {
		case o.ConfigMap != nil && old.ConfigMap != nil:
			same = reflect.DeepEqual(o.ConfigMap.Data, old.ConfigMap.Data) &&
				reflect.DeepEqual(o.ConfigMap.BinaryData, old.ConfigMap.BinaryData) && o.immutable()
		case o.Secret != nil && old.Secret != nil:
			same = reflect.DeepEqual(o.Secret.Data, old.Secret.Data) && o.Secret.Type == old.Secret.Type && o.immutable()
		}
		if !same {
			return fmt.Errorf("%s is immutable: its data cannot change; remove it (the file or the document) first, or give the new version another name", lowerKind(o.Key()))
		}
	}
	return nil
}

// equalStates reports whether a consumer would see no difference.
func equalStates(a, b State) bool {
	return slices.EqualFunc(a.Pods, b.Pods, func(x, y Pod) bool {
		return x.File == y.File && x.Hash == y.Hash && podKey(x.Pod) == podKey(y.Pod)
	}) &&
		slices.EqualFunc(a.Objects, b.Objects, func(x, y Object) bool {
			return x.File == y.File && x.Hash == y.Hash && x.Key() == y.Key()
		}) &&
		slices.EqualFunc(a.Workloads, b.Workloads, func(x, y Workload) bool {
			return x.File == y.File && x.Hash == y.Hash && x.Key() == y.Key()
		}) &&
		slices.EqualFunc(a.Errors, b.Errors, func(x, y FileError) bool {
			return x.File == y.File && x.Err.Error() == y.Err.Error()
		}) &&
		slices.Equal(a.HeldFiles, b.HeldFiles)
}

// copyState deep-copies the pods, so the receiver owns what it gets.
func copyState(s State) State {
	out := State{
		Errors:    slices.Clone(s.Errors),
		HeldFiles: slices.Clone(s.HeldFiles),
	}
	for _, p := range s.Pods {
		p.Pod = p.Pod.DeepCopy()
		out.Pods = append(out.Pods, p)
	}
	for _, o := range s.Objects {
		out.Objects = append(out.Objects, o.DeepCopy())
	}
	for _, w := range s.Workloads {
		out.Workloads = append(out.Workloads, w.DeepCopy())
	}
	return out
}
