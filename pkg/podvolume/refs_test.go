package podvolume

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestRefsIncludePullSecrets(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{
		Volumes:          []v1.Volume{{Name: "c", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}}}},
		ImagePullSecrets: []v1.LocalObjectReference{{Name: "regcred"}, {Name: "regcred"}},
	}}
	if got, want := fmt.Sprint(Refs(pod)), "[{ConfigMap cfg} {Secret regcred}]"; got != want {
		t.Fatalf("Refs = %s, want %s", got, want)
	}
}
