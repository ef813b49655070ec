package podsandbox

import (
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/manifest"
)

func testObjects() *manifest.ObjectSet {
	return manifest.NewObjectSet(manifest.ObjectsOf(
		&v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "shop"},
			Data:       map[string]string{"MODE": "prod", "URL": "http://$(HOST)", "b": "2"},
		},
		&v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
			Data:       map[string][]byte{"password": []byte("s3cret"), "MODE": []byte("from-secret")},
		},
	))
}

func ref(name, key string, optional bool) (*v1.ConfigMapKeySelector, *v1.SecretKeySelector) {
	return &v1.ConfigMapKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: name}, Key: key, Optional: &optional},
		&v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: name}, Key: key, Optional: &optional}
}

func TestEnvFromObjects(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	cmKey, _ := ref("cfg", "MODE", false)
	_, secKey := ref("db", "password", false)
	_, optMissing := ref("nope", "x", true)
	cmOptKey, _ := ref("cfg", "nokey", true)
	c := &v1.Container{
		Name: "app",
		EnvFrom: []v1.EnvFromSource{
			{ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}},
			{Prefix: "DB_", SecretRef: &v1.SecretEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "db"}}},
			{ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "gone"}, Optional: ptrTo(true)}},
		},
		Env: []v1.EnvVar{
			{Name: "HOST", Value: "h"},
			{Name: "LINK", Value: "$(MODE)-$(DB_password)"},
			{Name: "MODE2", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: cmKey}},
			{Name: "PASS", ValueFrom: &v1.EnvVarSource{SecretKeyRef: secKey}},
			{Name: "OPT", ValueFrom: &v1.EnvVarSource{SecretKeyRef: optMissing}},
			{Name: "OPTKEY", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: cmOptKey}},
			{Name: "CPU", ValueFrom: &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{Resource: "limits.cpu"}}},
			{Name: "MEM", ValueFrom: &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
		},
		Resources: v1.ResourceRequirements{Limits: v1.ResourceList{v1.ResourceMemory: resource.MustParse("64Mi")}},
	}
	env, err := BuildEnv(EnvInputs{Pod: pod, Container: c, ImageEnv: []string{"MODE=image"}, Objects: testObjects(),
		Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"MODE=prod",                 // envFrom overrides the image
		"URL=http://$(HOST)", "b=2", // envFrom values are not expanded
		"DB_MODE=from-secret", "DB_password=s3cret",
		"HOST=h", "LINK=prod-s3cret", "MODE2=prod", "PASS=s3cret",
		"CPU=2", // unset limit: the node's allocatable
		"MEM=64",
	}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("env\n got %q\nwant %q", env, want)
	}
}

func TestEnvMissingObjects(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	cmMissing, secMissing := ref("nope", "k", false)
	cmNoKey, secNoKey := ref("cfg", "nokey", false)
	_, secNoKey2 := ref("db", "nokey", false)
	_ = secNoKey
	cases := []struct {
		c    v1.Container
		want string
	}{
		{v1.Container{Env: []v1.EnvVar{{Name: "A", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: cmMissing}}}}, `configmap "nope" not found`},
		{v1.Container{Env: []v1.EnvVar{{Name: "A", ValueFrom: &v1.EnvVarSource{SecretKeyRef: secMissing}}}}, `secret "nope" not found`},
		{v1.Container{Env: []v1.EnvVar{{Name: "A", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: cmNoKey}}}}, "couldn't find key nokey in ConfigMap shop/cfg"},
		{v1.Container{Env: []v1.EnvVar{{Name: "A", ValueFrom: &v1.EnvVarSource{SecretKeyRef: secNoKey2}}}}, "couldn't find key nokey in Secret shop/db"},
		{v1.Container{EnvFrom: []v1.EnvFromSource{{SecretRef: &v1.SecretEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "x"}}}}}, `secret "x" not found`},
	}
	for _, tc := range cases {
		_, err := BuildEnv(EnvInputs{Pod: pod, Container: &tc.c, Objects: testObjects()})
		var me MissingError
		if err == nil || err.Error() != tc.want || !asMissing(err, &me) {
			t.Errorf("got %v, want MissingError %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func asMissing(err error, me *MissingError) bool {
	m, ok := err.(MissingError)
	*me = m
	return ok
}

func ptrTo[T any](v T) *T { return &v }

func TestSecurityModules(t *testing.T) {
	prof := "profiles/deny-mkdir.json"
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{AppArmorAnnotationPrefix + "b": "localhost/k8s-nginx"}},
		Spec: v1.PodSpec{
			SecurityContext: &v1.PodSecurityContext{
				SeccompProfile:  &v1.SeccompProfile{Type: v1.SeccompProfileTypeLocalhost, LocalhostProfile: &prof},
				AppArmorProfile: &v1.AppArmorProfile{Type: v1.AppArmorProfileTypeRuntimeDefault},
				SELinuxOptions:  &v1.SELinuxOptions{Level: "s0:c1,c2"},
				Sysctls:         []v1.Sysctl{{Name: "net/ipv4/ip_unprivileged_port_start", Value: "80"}},
			},
			Containers: []v1.Container{
				{Name: "a"},
				{Name: "b", SecurityContext: &v1.SecurityContext{SELinuxOptions: &v1.SELinuxOptions{Type: "spc_t"}}},
				{Name: "c", SecurityContext: &v1.SecurityContext{AppArmorProfile: &v1.AppArmorProfile{Type: v1.AppArmorProfileTypeUnconfined},
					SeccompProfile: &v1.SeccompProfile{Type: v1.SeccompProfileTypeUnconfined}}},
			},
		},
	}
	cases := []struct {
		c                          int
		seccomp, file, aa, selinux string
	}{
		{0, "Localhost", "/etc/seccomp/profiles/deny-mkdir.json", "runtime/default", "system_u:system_r:container_t:s0:c1,c2"},
		{1, "Localhost", "/etc/seccomp/profiles/deny-mkdir.json", "localhost/k8s-nginx", "system_u:system_r:spc_t:s0:c1,c2"},
		{2, "Unconfined", "", "", "system_u:system_r:container_t:s0:c1,c2"},
	}
	for _, tc := range cases {
		s, err := Security(pod, &pod.Spec.Containers[tc.c], "", "/etc/seccomp")
		if err != nil {
			t.Fatal(err)
		}
		if s.SeccompProfile != tc.seccomp || s.SeccompLocalhost != tc.file || s.AppArmorProfile != tc.aa || s.SELinuxLabel != tc.selinux {
			t.Errorf("container %d: seccomp %s %s, apparmor %q, selinux %q", tc.c, s.SeccompProfile, s.SeccompLocalhost, s.AppArmorProfile, s.SELinuxLabel)
		}
	}
	escape := "../../etc/shadow"
	pod.Spec.SecurityContext.SeccompProfile.LocalhostProfile = &escape
	if s, _ := Security(pod, &pod.Spec.Containers[0], "", "/etc/seccomp"); !strings.HasPrefix(s.SeccompLocalhost, "/etc/seccomp/") {
		t.Errorf("a profile path left the root: %s", s.SeccompLocalhost)
	}
	sb := SandboxSpec(SandboxParams{Pod: pod, PodID: "x", Token: "t"})
	if sb.Sysctls["net.ipv4.ip_unprivileged_port_start"] != "80" || len(sb.Sysctls) != 1 {
		t.Errorf("sandbox sysctls: %v", sb.Sysctls)
	}
}

func TestHostnameFQDNAndMountModes(t *testing.T) {
	yes := true
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: v1.PodSpec{Subdomain: "db", SetHostnameAsFQDN: &yes}}
	if h := UTSHostname(pod); h != "web.db.shop.svc.cluster.local" {
		t.Errorf("FQDN hostname %q", h)
	}
	if h := Hostname(pod); h != "web" {
		t.Errorf("short hostname %q", h)
	}
	pod.Spec.Subdomain = ""
	if h := UTSHostname(pod); h != "web" {
		t.Errorf("without a subdomain: %q", h)
	}
	rro := v1.RecursiveReadOnlyEnabled
	pod.Spec.Volumes = []v1.Volume{
		{Name: "h", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/srv"}}},
		{Name: "d", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "data", ReadOnly: true}}},
		{Name: "c", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{}}},
	}
	c := &v1.Container{VolumeMounts: []v1.VolumeMount{
		{Name: "h", MountPath: "/h", ReadOnly: true, RecursiveReadOnly: &rro},
		{Name: "d", MountPath: "/d"},
		{Name: "c", MountPath: "/c"},
	}}
	paths := NewPaths("/var/lib/minilet", "/run/minilet", "/var/log/pods", pod)
	ms, err := Mounts(pod, c, paths)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/h": "rro", "/d": "ro", "/c": "ro"}
	for _, m := range ms {
		if w, ok := want[m.Destination]; ok && (len(m.Options) < 3 || m.Options[2] != w) {
			t.Errorf("%s: options %v, want %s", m.Destination, m.Options, w)
		}
		if m.Destination == "/d" && m.Source != "/var/lib/minilet/volumes/shop/data" {
			t.Errorf("claim source %s", m.Source)
		}
	}
}
