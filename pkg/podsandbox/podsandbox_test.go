package podsandbox

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

func testPod() *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-1", Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{
			NodeName: "node1",
			Containers: []v1.Container{{
				Name:  "app",
				Image: "busybox:1",
				Env: []v1.EnvVar{
					{Name: "A", Value: "a"},
					{Name: "B", Value: "$(A)-b-$$(A)-$(MISSING)"},
					{Name: "POD", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "APP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				},
			}},
		},
	}
}

func TestIDsAreStableAndValid(t *testing.T) {
	id := PodID("uid-1")
	if len(id) != 12 || id != PodID("uid-1") || id == PodID("uid-2") {
		t.Fatalf("PodID not a stable 12-char hash: %q", id)
	}
	long := strings.Repeat("a", 63)
	cid := ContainerID(id, long, 12)
	if len(cid) > 76 {
		t.Fatalf("container ID %q is %d chars, over containerd's 76", cid, len(cid))
	}
	if ContainerID(id, long, 1) == ContainerID(id, long[:62]+"b", 1) {
		t.Fatal("truncated names collide")
	}
	if SandboxID(id, "0") == ContainerID(id, "pod", 0) {
		t.Fatal("sandbox ID collides with a container named pod")
	}
}

func TestEnvAndCommand(t *testing.T) {
	pod := testPod()
	env, err := BuildEnv(EnvInputs{Pod: pod, Container: &pod.Spec.Containers[0], ImageEnv: []string{"PATH=/bin", "A=image"},
		PodIPs: []string{"10.0.0.5"}, HostIP: "192.168.1.2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/bin", "A=a", "B=a-b-$(A)-$(MISSING)", "POD=web", "IP=10.0.0.5", "APP=web"}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("env = %q\nwant %q", env, want)
	}
	img := runtime.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	cases := []struct {
		command, args, want []string
	}{
		{nil, nil, []string{"/entry", "default"}},
		{nil, []string{"x", "$(A)"}, []string{"/entry", "x", "a"}},
		{[]string{"sh"}, nil, []string{"sh"}},
		{[]string{"sh"}, []string{"-c", "echo $(POD)"}, []string{"sh", "-c", "echo web"}},
	}
	for _, c := range cases {
		ctr := &v1.Container{Command: c.command, Args: c.args}
		if got := Command(ctr, img, env); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Command(%q, %q) = %q, want %q", c.command, c.args, got, c.want)
		}
	}
}

func TestContainerSpecJoinsSandbox(t *testing.T) {
	pod := testPod()
	paths := NewPaths("/var/lib/minilet", "/run/minilet", "/var/log/pods", pod)
	p := ContainerParams{Pod: pod, PodID: PodID(pod.UID), Container: &pod.Spec.Containers[0], Type: TypeApp,
		RestartCount: 2, SandboxPID: 42, Paths: paths, Image: runtime.Image{Ref: "busybox:1"}}
	spec, err := ContainerSpecFor(p)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Namespaces.Network.Path != "/proc/42/ns/net" || spec.Namespaces.IPC.Path != "/proc/42/ns/ipc" || spec.Namespaces.UTS.Path != "/proc/42/ns/uts" {
		t.Errorf("namespaces do not join the pause: %+v", spec.Namespaces)
	}
	if spec.Namespaces.PID.Path != "" {
		t.Errorf("pid namespace joined without shareProcessNamespace")
	}
	if spec.Labels[LabelContainerName] != "app" || spec.Labels[LabelRestartCount] != "2" || spec.Labels[LabelPodUID] != "uid-1" {
		t.Errorf("labels: %v", spec.Labels)
	}
	if spec.Annotations[AnnotationShimGroup] != ShimGroup(PodID(pod.UID)) {
		t.Errorf("shim group annotation: %v", spec.Annotations)
	}
	if spec.LogPath != "/var/log/pods/default_web_uid-1/app/2.log" {
		t.Errorf("log path %s", spec.LogPath)
	}
	if spec.Hostname != "" {
		t.Errorf("an app container must not set the hostname of the shared UTS namespace")
	}
	share := true
	pod.Spec.ShareProcessNamespace = &share
	spec, _ = ContainerSpecFor(p)
	if spec.Namespaces.PID.Path != "/proc/42/ns/pid" {
		t.Errorf("shareProcessNamespace: pid namespace %+v", spec.Namespaces.PID)
	}
	pod.Spec.HostNetwork = true
	spec, _ = ContainerSpecFor(p)
	if !spec.Namespaces.Network.Host || !spec.Namespaces.UTS.Host {
		t.Errorf("hostNetwork: %+v", spec.Namespaces)
	}
}

func TestResources(t *testing.T) {
	c := &v1.Container{Resources: v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("1500m"), v1.ResourceMemory: resource.MustParse("128Mi")},
	}}
	r := Resources(c)
	if r.CPUShares != 256 || r.CPUQuota != 150000 || r.CPUPeriod != 100000 || r.MemoryLimitBytes != 128<<20 {
		t.Fatalf("resources = %+v", r)
	}
	if r := Resources(&v1.Container{}); r.CPUShares != 2 || r.CPUQuota != 0 || r.MemoryLimitBytes != 0 {
		t.Fatalf("best effort resources = %+v", r)
	}
}

func TestSecurity(t *testing.T) {
	pod := testPod()
	yes, no := true, false
	uid := int64(1000)
	c := &pod.Spec.Containers[0]
	s, err := Security(pod, c, "", "")
	if err != nil || s.SeccompProfile != "RuntimeDefault" || s.Privileged || s.NoNewPrivileges {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	c.SecurityContext = &v1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &v1.Capabilities{Add: []v1.Capability{"NET_ADMIN"}, Drop: []v1.Capability{"all"}}}
	s, _ = Security(pod, c, "", "")
	if !s.NoNewPrivileges || !reflect.DeepEqual(s.CapAdd, []string{"CAP_NET_ADMIN"}) || !reflect.DeepEqual(s.CapDrop, []string{"ALL"}) {
		t.Fatalf("context: %+v", s)
	}
	pod.Spec.SecurityContext = &v1.PodSecurityContext{RunAsNonRoot: &yes}
	if _, err := Security(pod, c, "", ""); !errors.Is(err, ErrRunAsNonRoot) {
		t.Fatalf("runAsNonRoot with a root image: %v", err)
	}
	if _, err := Security(pod, c, "nobody", ""); !errors.Is(err, ErrRunAsNonRoot) {
		t.Fatalf("runAsNonRoot with a named image user: %v", err)
	}
	if _, err := Security(pod, c, "1000", ""); err != nil {
		t.Fatalf("runAsNonRoot with uid 1000: %v", err)
	}
	pod.Spec.SecurityContext.RunAsUser = &uid
	if s, err := Security(pod, c, "", ""); err != nil || *s.RunAsUser != 1000 {
		t.Fatalf("runAsUser from the pod: %+v %v", s, err)
	}
}

func TestFiles(t *testing.T) {
	pod := testPod()
	pod.Spec.HostAliases = []v1.HostAlias{{IP: "10.1.1.1", Hostnames: []string{"db", "db.local"}}}
	hosts := string(HostsFile(pod, []string{"10.0.0.5"}, nil))
	for _, want := range []string{"127.0.0.1\tlocalhost", "10.0.0.5\tweb\n", "10.1.1.1\tdb\tdb.local"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts file lacks %q:\n%s", want, hosts)
		}
	}
	host := []byte("nameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch example.com\noptions ndots:2\n")
	pod.Spec.DNSConfig = &v1.PodDNSConfig{Nameservers: []string{"9.9.9.9", "1.1.1.1"}, Searches: []string{"svc.local"}, Options: []v1.PodDNSConfigOption{{Name: "ndots", Value: strPtr("5")}}}
	got := string(ResolvConf(pod, host))
	want := "nameserver 1.1.1.1\nnameserver 8.8.8.8\nnameserver 9.9.9.9\nsearch example.com svc.local\noptions ndots:5\n"
	if got != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, want)
	}
	pod.Spec.DNSPolicy = v1.DNSNone
	if got := string(ResolvConf(pod, host)); !strings.HasPrefix(got, "nameserver 9.9.9.9\nnameserver 1.1.1.1\nsearch svc.local\n") {
		t.Errorf("dnsPolicy None:\n%s", got)
	}
	pod.Spec.Hostname = "custom"
	if Hostname(pod) != "custom" {
		t.Errorf("spec.hostname ignored")
	}
}

func TestMountsRejectEscapingSubPath(t *testing.T) {
	pod := testPod()
	pod.Spec.Volumes = []v1.Volume{{Name: "v", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}}
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = []v1.VolumeMount{{Name: "v", MountPath: "/v", SubPath: "../../etc"}}
	if _, err := Mounts(pod, c, NewPaths("/r", "/run", "/l", pod)); err == nil {
		t.Fatal("a subPath with .. was accepted")
	}
	c.VolumeMounts = []v1.VolumeMount{{Name: "v", MountPath: "/v", SubPath: "a/b", ReadOnly: true}}
	ms, err := Mounts(pod, c, NewPaths("/r", "/run", "/l", pod))
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	if last.Source != "/r/pods/uid-1/volumes/v/a/b" || last.Options[2] != "ro" {
		t.Fatalf("mount %+v", last)
	}
}

func strPtr(s string) *string { return &s }

// The pause gets no seccomp filter (it guards nothing there and costs runc
// a compile per pod); app containers keep RuntimeDefault.
func TestSandboxSpecHasNoSeccompFilter(t *testing.T) {
	pod := testPod()
	sb := SandboxSpec(SandboxParams{Pod: pod, PodID: "abc", Token: "t1", NetnsPath: "/run/netns/abc"})
	if sb.Security.SeccompProfile != "Unconfined" {
		t.Errorf("pause seccomp %q, want Unconfined", sb.Security.SeccompProfile)
	}
	if !sb.Security.NoNewPrivileges || !sb.Security.ReadOnlyRootfs || len(sb.Security.CapDrop) != 1 || sb.Security.CapDrop[0] != "ALL" {
		t.Errorf("pause security %+v, want no_new_privs, read-only rootfs, all capabilities dropped", sb.Security)
	}
	s, err := Security(pod, &pod.Spec.Containers[0], "", "")
	if err != nil || s.SeccompProfile != "RuntimeDefault" {
		t.Errorf("app seccomp %q (%v), want RuntimeDefault", s.SeccompProfile, err)
	}
}
