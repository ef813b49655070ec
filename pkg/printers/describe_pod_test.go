package printers

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func describePodFixture() *v1.Pod {
	prio := int32(0)
	tolSecs := int64(300)
	dirType := v1.HostPathDirectoryOrCreate
	start := ago(time.Hour)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", UID: "uid-1",
			Labels:            map[string]string{"app": "web", "tier": "front"},
			Annotations:       map[string]string{"note": "hello", "long": strings.Repeat("x", 150)},
			CreationTimestamp: ago(time.Hour),
		},
		Spec: v1.PodSpec{
			Priority: &prio,
			NodeName: "node1",
			InitContainers: []v1.Container{{
				Name: "setup", Image: "busybox:1.36", Command: []string{"sh", "-c", "echo hi"},
			}},
			Containers: []v1.Container{{
				Name:  "app",
				Image: "nginx:1.27",
				Args:  []string{"--port", "8080"},
				Ports: []v1.ContainerPort{{ContainerPort: 8080, Protocol: v1.ProtocolTCP}},
				Resources: v1.ResourceRequirements{
					Limits:   v1.ResourceList{v1.ResourceMemory: resource.MustParse("128Mi"), v1.ResourceCPU: resource.MustParse("500m")},
					Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")},
				},
				LivenessProbe: &v1.Probe{
					ProbeHandler:   v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: v1.URISchemeHTTP}},
					TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
				},
				ReadinessProbe: &v1.Probe{
					ProbeHandler:        v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"cat", "/tmp/ready"}}},
					InitialDelaySeconds: 5, TimeoutSeconds: 1, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3,
				},
				StartupProbe: &v1.Probe{
					ProbeHandler:   v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromString("http")}},
					TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 30,
				},
				Env: []v1.EnvVar{
					{Name: "MODE", Value: "prod"},
					{Name: "POD_NAME", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
					{Name: "MEM", ValueFrom: &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
				},
				VolumeMounts: []v1.VolumeMount{
					{Name: "data", MountPath: "/data"},
					{Name: "cache", MountPath: "/cache", ReadOnly: true},
				},
			}},
			Volumes: []v1.Volume{
				{Name: "data", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/srv/data", Type: &dirType}}},
				{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
			},
			NodeSelector: map[string]string{"disk": "ssd"},
			Tolerations: []v1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: &tolSecs},
				{Operator: v1.TolerationOpExists},
			},
		},
		Status: v1.PodStatus{
			Phase:     v1.PodRunning,
			HostIP:    "192.168.1.10",
			PodIP:     "10.85.0.7",
			PodIPs:    []v1.PodIP{{IP: "10.85.0.7"}},
			StartTime: &start,
			QOSClass:  v1.PodQOSBurstable,
			Conditions: []v1.PodCondition{
				{Type: v1.PodInitialized, Status: v1.ConditionTrue},
				{Type: v1.PodReady, Status: v1.ConditionFalse},
			},
			InitContainerStatuses: []v1.ContainerStatus{{
				Name: "setup", ContainerID: "containerd://aaa", ImageID: "docker.io/library/busybox@sha256:111",
				State: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{Reason: "Completed", StartedAt: ago(59 * time.Minute), FinishedAt: ago(59 * time.Minute)}},
			}},
			ContainerStatuses: []v1.ContainerStatus{{
				Name: "app", ContainerID: "containerd://bbb", ImageID: "docker.io/library/nginx@sha256:222",
				RestartCount: 3,
				State:        v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
					Reason: "Error", ExitCode: 137, Signal: 9, StartedAt: ago(6 * time.Minute), FinishedAt: ago(5 * time.Minute),
				}},
			}},
		},
	}
	return pod
}

func describe(t *testing.T, pod *v1.Pod, events *v1.EventList) string {
	t.Helper()
	var b bytes.Buffer
	if err := DescribePod(&b, pod, events, testNow); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// squeeze collapses runs of spaces, so that lines can be checked without
// depending on column widths.
func squeeze(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ") }

func TestDescribePodKeyLines(t *testing.T) {
	events := &v1.EventList{Items: []v1.Event{
		{Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container app", Count: 3,
			FirstTimestamp: ago(5 * time.Minute), LastTimestamp: ago(20 * time.Second), Source: v1.EventSource{Component: "minilet"}},
		{Type: "Normal", Reason: "Pulled", Message: "Successfully pulled image \"nginx:1.27\"\n", Count: 1,
			FirstTimestamp: ago(time.Hour), LastTimestamp: ago(time.Hour), Source: v1.EventSource{Component: "minilet"}},
	}}
	out := describe(t, describePodFixture(), events)
	got := squeeze(out)
	for _, want := range []string{
		"Name: web\n",
		"Namespace: default\n",
		"Priority: 0\n",
		"Node: node1/192.168.1.10\n",
		"Start Time: Fri, 14 Mar 2025 11:00:00 +0000\n",
		"Labels: app=web\n tier=front\n",
		"Annotations: long:\n " + strings.Repeat("x", 138) + "...\n note: hello\n",
		"Status: Running\n",
		"IP: 10.85.0.7\nIPs:\n IP: 10.85.0.7\n",
		"Init Containers:\n setup:\n Container ID: containerd://aaa\n Image: busybox:1.36\n Image ID: docker.io/library/busybox@sha256:111\n Port: <none>\n Host Port: <none>\n Command:\n sh\n -c\n echo hi\n State: Terminated\n Reason: Completed\n Exit Code: 0\n",
		"Containers:\n app:\n Container ID: containerd://bbb\n",
		"Port: 8080/TCP\n Host Port: 0/TCP\n Args:\n --port\n 8080\n",
		"State: Waiting\n Reason: CrashLoopBackOff\n Last State: Terminated\n Reason: Error\n Exit Code: 137\n Signal: 9\n Started: Fri, 14 Mar 2025 11:54:00 +0000\n Finished: Fri, 14 Mar 2025 11:55:00 +0000\n Ready: False\n Restart Count: 3\n",
		"Limits:\n cpu: 500m\n memory: 128Mi\n Requests:\n cpu: 100m\n",
		"Liveness: http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3\n",
		"Readiness: exec [cat /tmp/ready] delay=5s timeout=1s period=5s #success=1 #failure=3\n",
		"Startup: tcp-socket :http delay=0s timeout=1s period=10s #success=1 #failure=30\n",
		"Environment:\n MODE: prod\n POD_NAME: web (v1:metadata.name)\n MEM: 128 (limits.memory)\n",
		"Mounts:\n /cache from cache (ro)\n /data from data (rw)\n",
		"Conditions:\n Type Status\n Initialized True \n Ready False \n",
		"Volumes:\n data:\n Type: HostPath (bare host directory volume)\n Path: /srv/data\n HostPathType: DirectoryOrCreate\n cache:\n Type: EmptyDir (a temporary directory that shares a pod's lifetime)\n Medium: \n SizeLimit: <unset>\n",
		"QoS Class: Burstable\n",
		"Node-Selectors: disk=ssd\n",
		"Tolerations: op=Exists\n node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n",
		"Events:\n Type Reason Age From Message\n ---- ------ ---- ---- -------\n Normal Pulled 60m minilet Successfully pulled image \"nginx:1.27\"\n Warning BackOff 20s (x3 over 5m) minilet Back-off restarting failed container app\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("describe output lacks\n%s", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestDescribePodAlignment(t *testing.T) {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "tiny", Namespace: "default"},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "busybox"}}},
		Status:     v1.PodStatus{Phase: v1.PodPending},
	}
	want := `Name:         tiny
Namespace:    default
Priority:     0
Node:         <none>
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  c:
    Image:        busybox
    Port:         <none>
    Host Port:    <none>
    Environment:  <none>
    Mounts:       <none>
Volumes:          <none>
QoS Class:        BestEffort
Node-Selectors:   <none>
Tolerations:      <none>
Events:           <none>
`
	if got := describe(t, pod, &v1.EventList{}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Without an event list (events could not be read), no Events line.
	if got := describe(t, pod, nil); strings.Contains(got, "Events:") {
		t.Errorf("events section without events:\n%s", got)
	}
}

func TestDescribeTerminating(t *testing.T) {
	pod := describePodFixture()
	del := ago(90 * time.Second)
	grace := int64(30)
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &del, &grace
	got := squeeze(describe(t, pod, nil))
	if !strings.Contains(got, "Status: Terminating (lasts 90s)\nTermination Grace Period: 30s\n") {
		t.Errorf("terminating pod:\n%s", got)
	}
}

func TestDescribeProbe(t *testing.T) {
	svc := "health"
	for _, tc := range []struct {
		probe v1.Probe
		want  string
	}{
		{v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Host: "10.0.0.1", Path: "/ready", Port: intstr.FromString("web"), Scheme: v1.URISchemeHTTPS}}},
			"http-get https://10.0.0.1:web/ready delay=0s timeout=0s period=0s #success=0 #failure=0"},
		{v1.Probe{ProbeHandler: v1.ProbeHandler{GRPC: &v1.GRPCAction{Port: 9000, Service: &svc}}, PeriodSeconds: 10},
			"grpc <pod>:9000 health delay=0s timeout=0s period=10s #success=0 #failure=0"},
		{v1.Probe{}, "unknown delay=0s timeout=0s period=0s #success=0 #failure=0"},
	} {
		if got := DescribeProbe(&tc.probe); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}

func TestPodQOS(t *testing.T) {
	res := func(limits, requests v1.ResourceList) *v1.Pod {
		return &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Resources: v1.ResourceRequirements{Limits: limits, Requests: requests}}}}}
	}
	cpuMem := v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}
	for _, tc := range []struct {
		pod  *v1.Pod
		want v1.PodQOSClass
	}{
		{res(nil, nil), v1.PodQOSBestEffort},
		{res(cpuMem, cpuMem), v1.PodQOSGuaranteed},
		{res(cpuMem, v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("1Gi")}), v1.PodQOSBurstable},
		{res(nil, v1.ResourceList{v1.ResourceMemory: resource.MustParse("1Gi")}), v1.PodQOSBurstable},
	} {
		if got := podQOS(tc.pod); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
