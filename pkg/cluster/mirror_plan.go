package cluster

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/minilet/minilet/pkg/manifest"
)

// The kubelet's annotations of mirror pods.
const (
	mirrorAnnotation     = "kubernetes.io/config.mirror"
	configSeenAnnotation = "kubernetes.io/config.seen"
)

// mirrorName is the name of a local pod's mirror pod: the kubelet names
// static pods <name>-<node>, so that two nodes' mirrors never collide.
func mirrorName(pod, node string) string { return pod + "-" + node }

// APIName is the name the API server knows a local pod by: its own for a
// pod of the API server, its mirror pod's for a pod of the files.
func APIName(pod *v1.Pod, node string) string {
	if manifest.IsAPIPod(pod) {
		return pod.Name
	}
	return mirrorName(pod.Name, node)
}

// mirrorHash is what a mirror pod's kubernetes.io/config.mirror holds:
// the local pod's config hash (its UID when it has none).
func mirrorHash(local *v1.Pod) string {
	if h := local.Annotations[manifest.ConfigHashAnnotation]; h != "" {
		return h
	}
	return string(local.UID)
}

// mirrorPodOf is the mirror pod of local on node: its spec and metadata,
// named <name>-<node>, owned by the Node, without what NodeRestriction
// forbids a node to create (other owners, the default service account
// name, ephemeral containers) and without status (patched after).
func mirrorPodOf(local *v1.Pod, node string, nodeUID types.UID) *v1.Pod {
	spec := *local.Spec.DeepCopy()
	spec.NodeName = node
	spec.EphemeralContainers = nil
	if spec.ServiceAccountName == "default" {
		spec.ServiceAccountName, spec.DeprecatedServiceAccount = "", ""
	}
	ann := map[string]string{}
	for k, v := range local.Annotations {
		ann[k] = v
	}
	hash := mirrorHash(local)
	ann[mirrorAnnotation] = hash
	ann[manifest.ConfigHashAnnotation] = hash
	if local.CreationTimestamp.IsZero() {
		delete(ann, configSeenAnnotation)
	} else {
		ann[configSeenAnnotation] = local.CreationTimestamp.UTC().Format("2006-01-02T15:04:05.000000000Z")
	}
	labels := map[string]string{}
	for k, v := range local.Labels {
		labels[k] = v
	}
	ctrl := true
	return &v1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: mirrorName(local.Name, node), Namespace: local.Namespace,
			Labels: labels, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: nodeUID, Controller: &ctrl}},
		},
		Spec: spec,
	}
}

// isMirror reports whether p is a mirror pod.
func isMirror(p *v1.Pod) bool {
	_, ok := p.Annotations[mirrorAnnotation]
	return ok
}

// mirrorPlan is what to do to bring the API's mirror pods in line with
// the local pods.
type mirrorPlan struct {
	// Deletes are mirrors to delete (grace 0, UID precondition): their
	// local pod is gone or changed, or someone is deleting them.
	Deletes []*v1.Pod
	// Creates are mirrors to create.
	Creates []*v1.Pod
	// Statuses are mirrors whose status to patch.
	Statuses []statusUpdate
}

// sentStatus is the status last sent for a pod, and when.
type sentStatus struct {
	Status v1.PodStatus
	At     time.Time
}

// resendAfter is how soon a status the API server holds differently from
// what was sent (someone else changed it: the node lifecycle controller
// marks pods not ready when the node's lease lapses) is sent again, as
// the kubelet's status manager reconciles every 10 s.
const resendAfter = 10 * time.Second

// needsSend reports whether want is to be sent for a pod whose API status
// is have: it differs, and it was not sent within resendAfter.
func needsSend(have, want v1.PodStatus, last sentStatus, wasSent bool, now time.Time) bool {
	if equality.Semantic.DeepEqual(roundTrip(have), want) {
		return false
	}
	return !wasSent || !equality.Semantic.DeepEqual(last.Status, want) || now.Sub(last.At) >= resendAfter
}

// statusUpdate is a status patch of one mirror pod.
type statusUpdate struct {
	Mirror *v1.Pod
	Status v1.PodStatus // what is sent, as the API will hold it
	Patch  []byte
}

// planMirrors compares the local pods (with their status; those being
// stopped count as gone) with the mirror pods the API server has for
// node. sent holds the status last sent for each mirror UID (needsSend).
func planMirrors(node string, nodeUID types.UID, local []v1.Pod, mirrors []*v1.Pod, sent map[types.UID]sentStatus, now time.Time) (mirrorPlan, error) {
	var plan mirrorPlan
	want := map[string]*v1.Pod{} // namespace/mirror name → local pod
	for i := range local {
		p := &local[i]
		if p.DeletionTimestamp != nil || manifest.IsAPIPod(p) {
			continue
		}
		want[p.Namespace+"/"+mirrorName(p.Name, node)] = p
	}
	have := map[string]bool{}
	mirrors = append([]*v1.Pod(nil), mirrors...)
	sort.Slice(mirrors, func(i, j int) bool {
		return mirrors[i].Namespace+"/"+mirrors[i].Name < mirrors[j].Namespace+"/"+mirrors[j].Name
	})
	for _, m := range mirrors {
		if !isMirror(m) || m.Spec.NodeName != node {
			continue
		}
		key := m.Namespace + "/" + m.Name
		have[key] = true
		l := want[key]
		if l == nil || m.DeletionTimestamp != nil || m.Annotations[mirrorAnnotation] != mirrorHash(l) {
			plan.Deletes = append(plan.Deletes, m)
			continue
		}
		st := roundTrip(l.Status)
		last, ok := sent[m.UID]
		if !needsSend(m.Status, st, last, ok, now) {
			continue
		}
		patch, err := podStatusPatch(m, st)
		if err != nil {
			return mirrorPlan{}, err
		}
		plan.Statuses = append(plan.Statuses, statusUpdate{Mirror: m, Status: st, Patch: patch})
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !have[k] {
			plan.Creates = append(plan.Creates, mirrorPodOf(want[k], node, nodeUID))
		}
	}
	return plan, nil
}

// roundTrip is s as the API server stores it (times to the second).
func roundTrip(s v1.PodStatus) v1.PodStatus {
	b, err := json.Marshal(s)
	if err != nil {
		return s
	}
	var out v1.PodStatus
	if err := json.Unmarshal(b, &out); err != nil {
		return s
	}
	return out
}

// podStatusPatch is the kubelet's status patch: a strategic merge patch
// from p's status to want, with p's UID as a precondition so that it
// never lands on another pod of the same name.
func podStatusPatch(p *v1.Pod, want v1.PodStatus) ([]byte, error) {
	oldJSON, err := json.Marshal(v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: p.UID}, Status: p.Status})
	if err != nil {
		return nil, err
	}
	newJSON, err := json.Marshal(v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: p.UID}, Status: want})
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, v1.Pod{})
	if err != nil {
		return nil, fmt.Errorf("status patch of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return addUIDPrecondition(patch, p.UID)
}

// addUIDPrecondition puts metadata.uid into a patch: the API server
// refuses it (409) when the pod's UID differs.
func addUIDPrecondition(patch []byte, uid types.UID) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, err
	}
	meta, _ := m["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["uid"] = string(uid)
	m["metadata"] = meta
	return json.Marshal(m)
}
