package manifest

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func apiPod() *v1.Pod {
	grace := int64(30)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", UID: "uid-1", ResourceVersion: "7",
			Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{
			NodeName: "n1", ServiceAccountName: "default", TerminationGracePeriodSeconds: &grace,
			RestartPolicy: v1.RestartPolicyAlways, DNSPolicy: v1.DNSClusterFirst,
			ImagePullSecrets: []v1.LocalObjectReference{{Name: "regcred"}},
			Containers:       []v1.Container{{Name: "c", Image: "busybox", ImagePullPolicy: v1.PullIfNotPresent, TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: v1.TerminationMessageReadFile}},
			Volumes: []v1.Volume{{Name: "kube-api-access", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
				{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token"}},
				{ConfigMap: &v1.ConfigMapProjection{LocalObjectReference: v1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []v1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			}}}}},
		},
		Status: v1.PodStatus{Phase: v1.PodRunning},
	}
}

func TestFromAPI(t *testing.T) {
	p, err := FromAPI(apiPod())
	if err != nil {
		t.Fatal(err)
	}
	if p.Pod.UID != "uid-1" || !IsAPIPod(p.Pod) || p.File != "api:/default/web-1" || p.Pod.Status.Phase != "" || p.Pod.ResourceVersion != "" {
		t.Errorf("pod %+v file %s", p.Pod.ObjectMeta, p.File)
	}
	// Status and resourceVersion do not change the hash; labels do (taken
	// in place: the spec hash is the same); a deletion does.
	other := apiPod()
	other.ResourceVersion, other.Status.Phase = "9", v1.PodPending
	if q, _ := FromAPI(other); q.Hash != p.Hash {
		t.Error("a status update changed the hash")
	}
	other.Labels["x"] = "y"
	q, _ := FromAPI(other)
	if q.Hash == p.Hash || SpecHash(q.Pod) != SpecHash(p.Pod) {
		t.Error("a label change is not a metadata-only change")
	}
	deleting := apiPod()
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if d, err := FromAPI(deleting); err != nil || d.Hash == p.Hash {
		t.Errorf("a deleted pod: %v, same hash %v", err, d.Hash == p.Hash)
	}
	// What minilet cannot honour is still refused, with the field.
	no := false
	bad := apiPod()
	bad.Spec.HostUsers = &no
	if _, err := FromAPI(bad); err == nil || !strings.Contains(err.Error(), "spec.hostUsers") {
		t.Errorf("hostUsers false: %v", err)
	}
	if apiPod().Spec.ServiceAccountName != "default" {
		t.Error("FromAPI changed its argument")
	}
}
