package podvolume

import (
	"io/fs"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

func testInputs() Inputs {
	return Inputs{
		Pod: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1",
				Labels: map[string]string{"app": "web", "tier": "front"}, Annotations: map[string]string{"note": "a \"quoted\" value"}},
			Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceMemory: resource.MustParse("32Mi")},
			}}}},
		},
		Objects: manifest.NewObjectSet(manifest.ObjectsOf(
			&v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "shop"}, Data: map[string]string{"a.conf": "A", "b.conf": "B"}, BinaryData: map[string][]byte{"bin": {0, 1}}},
			&v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "shop"}, Data: map[string][]byte{"user": []byte("u"), "pass": []byte("p")}},
		)),
		Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("4Gi")},
	}
}

func i32(v int32) *int32 { return &v }
func yes() *bool         { b := true; return &b }

func files(p Payload) map[string]string {
	out := map[string]string{}
	for k, f := range p {
		out[k] = string(f.Data) + "@" + fs.FileMode(f.Mode).String()
	}
	return out
}

func TestPayloads(t *testing.T) {
	in := testInputs()
	cases := []struct {
		name string
		vol  v1.VolumeSource
		want map[string]string
		err  string
	}{
		{"configMap whole", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}, DefaultMode: i32(0o600)}},
			map[string]string{"a.conf": "A@-rw-------", "b.conf": "B@-rw-------", "bin": "\x00\x01@-rw-------"}, ""},
		{"configMap items", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"},
			Items: []v1.KeyToPath{{Key: "a.conf", Path: "etc/app.conf", Mode: i32(0o400)}}}},
			map[string]string{"etc/app.conf": "A@-r--------"}, ""},
		{"configMap missing", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "nope"}}},
			nil, `configmap "nope" not found`},
		{"configMap missing optional", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "nope"}, Optional: yes()}},
			map[string]string{}, ""},
		{"configMap missing key", v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"},
			Items: []v1.KeyToPath{{Key: "zzz", Path: "z"}}}},
			nil, "configmap references non-existent config key: zzz"},
		{"secret", v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "creds"}},
			map[string]string{"user": "u@-rw-r--r--", "pass": "p@-rw-r--r--"}, ""},
		{"secret missing", v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "nope"}}, nil, `secret "nope" not found`},
		{"secret missing key", v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "creds", Items: []v1.KeyToPath{{Key: "k", Path: "k"}}}},
			nil, "references non-existent secret key: k"},
		{"downwardAPI", v1.VolumeSource{DownwardAPI: &v1.DownwardAPIVolumeSource{Items: []v1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "note", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.annotations['note']"}},
			{Path: "name", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "cpu", ResourceFieldRef: &v1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu", Divisor: resource.MustParse("1m")}},
			{Path: "mem", ResourceFieldRef: &v1.ResourceFieldSelector{ContainerName: "app", Resource: "requests.memory", Divisor: resource.MustParse("1Mi")}},
		}}},
			map[string]string{"labels": "app=\"web\"\ntier=\"front\"@-rw-r--r--", "note": "a \"quoted\" value@-rw-r--r--", "name": "web@-rw-r--r--",
				"cpu": "2000@-rw-r--r--", "mem": "32@-rw-r--r--"}, ""},
		{"projected", v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{DefaultMode: i32(0o440), Sources: []v1.VolumeProjection{
			{ConfigMap: &v1.ConfigMapProjection{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}, Items: []v1.KeyToPath{{Key: "a.conf", Path: "a"}}}},
			{Secret: &v1.SecretProjection{LocalObjectReference: v1.LocalObjectReference{Name: "creds"}, Items: []v1.KeyToPath{{Key: "pass", Path: "p", Mode: i32(0o400)}}}},
			{Secret: &v1.SecretProjection{LocalObjectReference: v1.LocalObjectReference{Name: "nope"}, Optional: yes()}},
			{DownwardAPI: &v1.DownwardAPIProjection{Items: []v1.DownwardAPIVolumeFile{{Path: "ns", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}},
			map[string]string{"a": "A@-r--r-----", "p": "p@-r--------", "ns": "shop@-r--r-----"}, ""},
		{"projected missing", v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
			{Secret: &v1.SecretProjection{LocalObjectReference: v1.LocalObjectReference{Name: "nope"}}}}}},
			nil, `secret "nope" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := For(in, &v1.Volume{Name: "v", VolumeSource: tc.vol})
			if tc.err != "" {
				var me MissingError
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if _, ok := err.(MissingError); !ok {
					t.Fatalf("error is a %T, not a MissingError (%v)", err, me)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := files(p); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	a := Payload{"x": {Data: []byte("1"), Mode: 0o644}, "y": {Data: []byte("2"), Mode: 0o644}}
	b := Payload{"y": {Data: []byte("2"), Mode: 0o644}, "x": {Data: []byte("1"), Mode: 0o644}}
	if a.Digest() != b.Digest() {
		t.Fatal("same payload, different digests")
	}
	for _, c := range []Payload{
		{"x": {Data: []byte("1"), Mode: 0o600}, "y": {Data: []byte("2"), Mode: 0o644}},
		{"x": {Data: []byte("12"), Mode: 0o644}, "y": {Data: []byte(""), Mode: 0o644}},
		{"x": {Data: []byte("1"), Mode: 0o644}},
	} {
		if c.Digest() == a.Digest() {
			t.Errorf("%v and %v have one digest", c, a)
		}
	}
}
