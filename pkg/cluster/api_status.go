package cluster

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// apiPlan is what to do to the API server's pods bound to this node.
type apiPlan struct {
	// Statuses are the status patches of pods that run here.
	Statuses []statusUpdate
	// Deletes are pods deleted in the API server whose containers are
	// gone here: deleted for good (grace 0, UID precondition), as the
	// kubelet finishes a graceful deletion.
	Deletes []*v1.Pod
}

// refusedReason is the status reason of a pod minilet cannot run.
const refusedReason = "UnsupportedPodSpec"

// planAPIPods compares the API server's pods bound to node with the local
// pods (all, and those whose status is known: synced). sent is the status
// last sent per pod UID (needsSend); refused tells why a pod cannot run
// here ("" when it can).
func planAPIPods(node string, all, synced []v1.Pod, api []*v1.Pod, sent map[types.UID]sentStatus, refused func(types.UID) string, now metav1.Time) (apiPlan, error) {
	var plan apiPlan
	local := map[types.UID]bool{}
	for i := range all {
		local[all[i].UID] = true
	}
	status := map[types.UID]*v1.Pod{}
	for i := range synced {
		status[synced[i].UID] = &synced[i]
	}
	api = append([]*v1.Pod(nil), api...)
	sort.Slice(api, func(i, j int) bool { return api[i].Namespace+"/"+api[i].Name < api[j].Namespace+"/"+api[j].Name })
	for _, p := range api {
		if isMirror(p) || p.Spec.NodeName != node {
			continue
		}
		var want *v1.PodStatus
		switch l := status[p.UID]; {
		case l != nil:
			st := roundTrip(l.Status)
			want = &st
		case local[p.UID]:
			continue // its status is not known yet
		case p.DeletionTimestamp != nil:
			plan.Deletes = append(plan.Deletes, p)
			continue
		case refused(p.UID) != "" && p.Status.Phase != v1.PodFailed:
			st := roundTrip(v1.PodStatus{Phase: v1.PodFailed, Reason: refusedReason, Message: "minilet cannot run this pod: " + refused(p.UID), StartTime: &now})
			want = &st
		default:
			continue
		}
		if last, ok := sent[p.UID]; !needsSend(p.Status, *want, last, ok, now.Time) {
			continue
		}
		patch, err := podStatusPatch(p, *want)
		if err != nil {
			return apiPlan{}, err
		}
		plan.Statuses = append(plan.Statuses, statusUpdate{Mirror: p, Status: *want, Patch: patch})
	}
	return plan, nil
}
