package pod

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

// changeKind names one thing the manager can do to its set of workers.
type changeKind string

const (
	// chStop terminates the worker of an active pod (gracefully; with
	// grace set, drain's or the API server deletion's grace period
	// replaces the pod's).
	chStop changeKind = "stop"
	// chAdd starts a worker for a desired pod.
	chAdd changeKind = "add"
	// chReadmit admits a pod that was not started again (the node may
	// have been uncordoned).
	chReadmit changeKind = "readmit"
	// chKeepHeld keeps a pod whose manifest is broken, and says so on it.
	chKeepHeld changeKind = "keep-held"
	// chKeepCordoned keeps a running pod whose manifest changed while the
	// node is cordoned, and says so on it.
	chKeepCordoned changeKind = "keep-cordoned"
	// chUpdateMeta gives a running pod its manifest's new labels and
	// annotations, in place: nothing else of the pod changed.
	chUpdateMeta changeKind = "update-meta"
	// chResize decides on the new cpu and memory an API pod asks for
	// (pods/resize): allocated, or pending (Deferred, Infeasible). It is
	// planned again at every reconcile while the resize waits.
	chResize changeKind = "resize"
)

// change is one decision of planPods.
type change struct {
	kind   changeKind
	key    string       // namespace/name
	pod    manifest.Pod // chAdd, chUpdateMeta: the desired pod
	grace  *int64       // chStop: drain's or the API server deletion's grace period
	reason string       // chStop: "removed", "changed", "drain", "deleted"
}

// activePod is what the manager knows of a running worker's pod.
type activePod struct {
	hash    string
	file    string
	blocked bool    // not started (admission)
	pod     *v1.Pod // the running version (for metadata-only changes)
	// resizePending: a resize of the pod waits (PodResizePending).
	resizePending bool
}

// held: the pod came from a file that cannot be used now. A workload
// controller's pod is never held by its file: the controller keeps the
// workload's last good version and decides its pods itself. A pod from
// the API server is held (HeldAPIPods) while its pods are not known.
func (a activePod) heldBy(held map[string]bool) bool {
	if !held[a.file] {
		return false
	}
	return a.pod == nil || manifest.IsAPIPod(a.pod) || metav1.GetControllerOf(a.pod) == nil
}

// podsInput is what planPods decides from.
type podsInput struct {
	desired     []manifest.Pod
	active      map[string]activePod // by namespace/name
	terminating map[string]bool      // keys whose old pod is still stopping
	held        map[string]bool      // manifest files that exist but cannot be used now
	cordoned    bool
	// draining, when set, stops every started pod with this grace
	// period (nil inside: the pod's own).
	draining *drainRequest
}

type drainRequest struct {
	grace   *int64
	applied bool // a reconcile has stopped the pods (the manager's, not planPods')
}

// planPods reconciles the desired set with the workers, as a pure
// function: pods no longer wanted (and not from a held file) or changed are
// stopped; a new pod gets a worker once no older pod of the same name is
// still stopping (the kubelet's allowStaticPodStart); while the node is
// cordoned, running pods stay and a changed manifest waits; a drain stops
// every started pod.
func planPods(in podsInput) []change {
	want := map[string]manifest.Pod{}
	for _, p := range in.desired {
		want[p.Pod.Namespace+"/"+p.Pod.Name] = p
	}
	var out []change
	stopped := map[string]bool{}
	for _, key := range sortedKeys(in.active) {
		a := in.active[key]
		d, ok := want[key]
		switch {
		case ok && d.Pod.DeletionTimestamp != nil:
			// Deleted in the API server: stopped with the deletion's
			// grace period, and not started again.
			out = append(out, change{kind: chStop, key: key, grace: d.Pod.DeletionGracePeriodSeconds, reason: "deleted"})
		case in.draining != nil && !a.blocked:
			out = append(out, change{kind: chStop, key: key, grace: in.draining.grace, reason: "drain"})
			stopped[key] = true
			continue
		case ok && d.Hash != a.hash && !a.heldBy(in.held) && metadataOnly(d, a):
			out = append(out, change{kind: chUpdateMeta, key: key, pod: d})
			if wantsResize(d, a) {
				out = append(out, change{kind: chResize, key: key, pod: d})
			}
			continue
		case ok && d.Hash != a.hash && in.cordoned && !a.blocked:
			out = append(out, change{kind: chKeepCordoned, key: key})
			continue
		case ok && d.Hash == a.hash && a.blocked:
			out = append(out, change{kind: chReadmit, key: key})
			continue
		case a.heldBy(in.held):
			out = append(out, change{kind: chKeepHeld, key: key})
			if !ok || d.Hash == a.hash {
				continue
			}
			out = append(out, change{kind: chStop, key: key, reason: "changed"})
		case !ok:
			out = append(out, change{kind: chStop, key: key, reason: "removed"})
		case d.Hash != a.hash:
			out = append(out, change{kind: chStop, key: key, reason: "changed"})
		default:
			if wantsResize(d, a) {
				out = append(out, change{kind: chResize, key: key, pod: d})
			}
			continue
		}
		stopped[key] = true
	}
	for _, key := range sortedKeys(want) {
		if _, ok := in.active[key]; ok && !stopped[key] {
			continue
		}
		if stopped[key] || in.terminating[key] {
			continue // started when the old pod is gone
		}
		if want[key].Pod.DeletionTimestamp != nil || want[key].KeepOnly {
			continue // deleted before it started, or ended in the API server
		}
		out = append(out, change{kind: chAdd, key: key, pod: want[key]})
	}
	return out
}

// metadataOnly reports whether the desired pod differs from the running
// one only in labels and annotations (not in a UID written in the file).
func metadataOnly(d manifest.Pod, a activePod) bool {
	if a.pod == nil || a.blocked {
		return false
	}
	if pinned := string(d.Pod.UID) != d.Hash; pinned && d.Pod.UID != a.pod.UID {
		return false
	}
	if manifest.IsAPIPod(d.Pod) {
		// What the API server lets change in a running pod is taken in
		// place (applyDesiredMeta), as the kubelet takes it: the pod
		// keeps its sandbox and IP.
		return manifest.SpecHash(withoutInPlace(d.Pod)) == manifest.SpecHash(withoutInPlace(a.pod))
	}
	return manifest.SpecHash(d.Pod) == manifest.SpecHash(a.pod)
}

// wantsResize reports whether the API pod d asks for other cpu and memory
// than its running version a has, or a's resize waits (so that the
// manager decides again, or clears the wait when d asks for what runs).
func wantsResize(d manifest.Pod, a activePod) bool {
	if !manifest.IsAPIPod(d.Pod) || a.pod == nil || a.blocked || d.KeepOnly {
		return false
	}
	return a.resizePending || !sameResourcesAs(a.pod, d.Pod)
}

// withoutInPlace is pod without what the API server lets change in a
// running pod (ValidatePodUpdate, pods/resize) and an API pod takes in
// place, and the generation that counts those changes:
// activeDeadlineSeconds, tolerations,
// terminationGracePeriodSeconds, the images of its containers and their
// cpu and memory.
func withoutInPlace(pod *v1.Pod) *v1.Pod {
	p := pod.DeepCopy()
	p.Generation = 0 // the API server counts each change of the spec
	p.Spec.ActiveDeadlineSeconds = nil
	p.Spec.Tolerations = nil
	p.Spec.TerminationGracePeriodSeconds = nil
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].Image = ""
		p.Spec.InitContainers[i].Resources = mergeResizable(p.Spec.InitContainers[i].Resources, v1.ResourceRequirements{})
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Image = ""
		p.Spec.Containers[i].Resources = mergeResizable(p.Spec.Containers[i].Resources, v1.ResourceRequirements{})
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
