package eviction

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTaintDeadline(t *testing.T) {
	added := metav1.NewTime(t0.Add(-time.Minute))
	maint := v1.Taint{Key: "maint", Value: "yes", Effect: v1.TaintEffectNoExecute, TimeAdded: &added}
	soft := v1.Taint{Key: "soft", Effect: v1.TaintEffectNoSchedule}
	tol := func(key string, secs *int64) v1.Toleration {
		return v1.Toleration{Key: key, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	pod := func(tols ...v1.Toleration) *v1.Pod { return &v1.Pod{Spec: v1.PodSpec{Tolerations: tols}} }
	for _, tc := range []struct {
		name   string
		pod    *v1.Pod
		taints []v1.Taint
		at     time.Time
		ok     bool
	}{
		{"no NoExecute taint", pod(), []v1.Taint{soft}, time.Time{}, false},
		{"untolerated: now", pod(), []v1.Taint{soft, maint}, t0, true},
		{"tolerated for good", pod(tol("maint", nil)), []v1.Taint{maint}, time.Time{}, false},
		{"tolerated 300 s from when the taint was added", pod(tol("maint", ptr(int64(300)))), []v1.Taint{maint}, added.Add(300 * time.Second), true},
		{"the shortest tolerationSeconds counts", pod(tol("maint", ptr(int64(300))), tol("", ptr(int64(30)))), []v1.Taint{maint}, added.Add(30 * time.Second), true},
		{"a negative tolerationSeconds is 0", pod(tol("maint", ptr(int64(-5)))), []v1.Taint{maint}, added.Time, true},
		{"one of two untolerated", pod(tol("maint", nil)), []v1.Taint{maint, {Key: "other", Effect: v1.TaintEffectNoExecute}}, t0, true},
	} {
		at, ok := TaintDeadline(tc.pod, tc.taints, t0)
		if ok != tc.ok || !at.Equal(tc.at) {
			t.Errorf("%s: %v %v, want %v %v", tc.name, at, ok, tc.at, tc.ok)
		}
	}
}
