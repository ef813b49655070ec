package manifest

import (
	"fmt"
	"slices"
	"strings"
)

// buildState makes the next State from this scan's files and the State sent
// before. It is pure: no I/O, no clock.
//
//   - A usable file contributes its pods.
//   - A file that cannot be used (files[i].err) is held: its pods of the
//     previous State stay as they were, and it is listed in Errors and
//     HeldFiles.
//   - A deleted file is gone, and so are its pods.
//   - Two files defining the same namespace/name: the file that had the pod
//     in the previous State keeps it; otherwise the file that sorts first
//     wins. The other file is refused whole (and held) with an error naming
//     both.
func buildState(files []fileResult, prev State) State {
	prevPods := map[string][]Pod{} // file → its pods in prev
	for _, p := range prev.Pods {
		prevPods[p.File] = append(prevPods[p.File], p)
	}
	refused := map[string]error{}
	usable := func(f *fileResult) bool { return f.err == nil && refused[f.path] == nil }

	// Refusing a file makes its previous pods stay, which can take a name
	// another file just claimed: start over until nothing more is refused.
	// Each round refuses one more file or ends.
	for {
		// reserved: names a file keeps from the previous State.
		reserved := map[string]string{}
		for i := range files {
			f := &files[i]
			for _, p := range prevPods[f.path] {
				k := podKey(p.Pod)
				if !usable(f) || hasPod(f.pods, k) {
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
			for _, p := range f.pods {
				k := podKey(p.Pod)
				owner, taken := reserved[k]
				if !taken || owner == f.path {
					owner, taken = claimed[k]
				}
				if taken && owner != f.path {
					refused[f.path] = fmt.Errorf("pod %s is already defined in %s; this file is refused until the conflict is resolved (rename the pod or remove one of the files)", k, owner)
					again = true
					break
				}
			}
			if again {
				break
			}
			for _, p := range f.pods {
				claimed[podKey(p.Pod)] = f.path
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
			continue
		}
		err := f.err
		if err == nil {
			err = refused[f.path]
		}
		st.Pods = append(st.Pods, prevPods[f.path]...)
		st.Errors = append(st.Errors, FileError{File: f.path, Err: err})
		st.HeldFiles = append(st.HeldFiles, f.path)
	}
	slices.SortFunc(st.Pods, func(a, b Pod) int {
		if c := strings.Compare(a.Pod.Namespace, b.Pod.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Pod.Name, b.Pod.Name)
	})
	slices.SortFunc(st.Errors, func(a, b FileError) int { return strings.Compare(a.File, b.File) })
	slices.Sort(st.HeldFiles)
	return st
}

func hasPod(pods []Pod, key string) bool {
	for _, p := range pods {
		if podKey(p.Pod) == key {
			return true
		}
	}
	return false
}

// equalStates reports whether a consumer would see no difference.
func equalStates(a, b State) bool {
	return slices.EqualFunc(a.Pods, b.Pods, func(x, y Pod) bool {
		return x.File == y.File && x.Hash == y.Hash && podKey(x.Pod) == podKey(y.Pod)
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
	return out
}
