package manifest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const testFile = "/etc/minilet/web.yaml"

// podYAML is a valid pod with extra lines: spec lines are indented by two
// spaces, container lines by four.
func podYAML(specExtra, containerExtra string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + specExtra +
		"  containers:\n  - name: app\n    image: nginx:1.25\n" + containerExtra
}

func decodeOne(t *testing.T, doc string) *v1.Pod {
	t.Helper()
	pods, err := Decode(testFile, []byte(doc), Options{NodeName: "node1"})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(pods) != 1 {
		t.Fatalf("Decode gave %d pods, want 1", len(pods))
	}
	return pods[0].Pod
}

func TestDecodeDefaults(t *testing.T) {
	pod := decodeOne(t, podYAML(`  volumes:
  - name: scratch
  - name: host
    hostPath: {path: /var/data}
  initContainers:
  - name: init
    image: busybox
`, `    ports:
    - containerPort: 80
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m}
    livenessProbe:
      httpGet: {port: 80}
    readinessProbe:
      tcpSocket: {port: 80}
    lifecycle:
      preStop:
        httpGet: {port: 80}
    env:
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
`))
	s := pod.Spec
	checks := []struct {
		name      string
		got, want any
	}{
		{"namespace", pod.Namespace, "default"},
		{"restartPolicy", s.RestartPolicy, v1.RestartPolicyAlways},
		{"dnsPolicy", s.DNSPolicy, v1.DNSClusterFirst},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"securityContext", *s.SecurityContext, v1.PodSecurityContext{}},
		{"enableServiceLinks", *s.EnableServiceLinks, true},
		{"nodeName", s.NodeName, "node1"},
		{"config.source", pod.Annotations["kubernetes.io/config.source"], "file"},
		{"imagePullPolicy", s.Containers[0].ImagePullPolicy, v1.PullIfNotPresent},
		{"init imagePullPolicy", s.InitContainers[0].ImagePullPolicy, v1.PullAlways},
		{"terminationMessagePath", s.Containers[0].TerminationMessagePath, "/dev/termination-log"},
		{"init terminationMessagePath", s.InitContainers[0].TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", s.Containers[0].TerminationMessagePolicy, v1.TerminationMessageReadFile},
		{"init terminationMessagePolicy", s.InitContainers[0].TerminationMessagePolicy, v1.TerminationMessageReadFile},
		{"port protocol", s.Containers[0].Ports[0].Protocol, v1.ProtocolTCP},
		{"hostPort", s.Containers[0].Ports[0].HostPort, int32(0)},
		{"probe timeout", s.Containers[0].LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe period", s.Containers[0].LivenessProbe.PeriodSeconds, int32(10)},
		{"probe success", s.Containers[0].LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failure", s.Containers[0].LivenessProbe.FailureThreshold, int32(3)},
		{"readiness failure", s.Containers[0].ReadinessProbe.FailureThreshold, int32(3)},
		{"httpGet scheme", s.Containers[0].LivenessProbe.HTTPGet.Scheme, v1.URISchemeHTTP},
		{"httpGet path", s.Containers[0].LivenessProbe.HTTPGet.Path, "/"},
		{"preStop httpGet path", s.Containers[0].Lifecycle.PreStop.HTTPGet.Path, "/"},
		{"fieldRef apiVersion", s.Containers[0].Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"empty volume", *s.Volumes[0].EmptyDir, v1.EmptyDirVolumeSource{}},
		{"hostPath type", *s.Volumes[1].HostPath.Type, v1.HostPathUnset},
		{"memory request from limit", s.Containers[0].Resources.Requests[v1.ResourceMemory], resource.MustParse("128Mi")},
		{"cpu request kept", s.Containers[0].Resources.Requests[v1.ResourceCPU], resource.MustParse("100m")},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if pod.Name != "web" {
		t.Errorf("name = %q, want it kept as written", pod.Name)
	}
	if h := pod.Annotations["kubernetes.io/config.hash"]; h == "" || string(pod.UID) != h {
		t.Errorf("UID %q, config.hash %q: want UID = hash", pod.UID, h)
	}
}

func TestDecodeHostNetworkPorts(t *testing.T) {
	pod := decodeOne(t, podYAML("  hostNetwork: true\n", "    ports:\n    - containerPort: 8080\n"))
	if got := pod.Spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Errorf("hostPort = %d, want 8080 (containerPort, with hostNetwork)", got)
	}
}

func TestDecodePullPolicy(t *testing.T) {
	for image, want := range map[string]v1.PullPolicy{
		"nginx":                        v1.PullAlways,
		"nginx:latest":                 v1.PullAlways,
		"nginx:1.25":                   v1.PullIfNotPresent,
		"localhost:5000/nginx":         v1.PullAlways,
		"localhost:5000/nginx:1.25":    v1.PullIfNotPresent,
		"nginx@sha256:" + hex64:        v1.PullIfNotPresent,
		"nginx:latest@sha256:" + hex64: v1.PullAlways,
	} {
		doc := strings.Replace(podYAML("", ""), "nginx:1.25", image, 1)
		if got := decodeOne(t, doc).Spec.Containers[0].ImagePullPolicy; got != want {
			t.Errorf("image %s: imagePullPolicy = %s, want %s", image, got, want)
		}
	}
	doc := podYAML("", "    imagePullPolicy: Never\n")
	if got := decodeOne(t, doc).Spec.Containers[0].ImagePullPolicy; got != v1.PullNever {
		t.Errorf("explicit Never became %s", got)
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDecodeUIDAndHash(t *testing.T) {
	doc := podYAML("", "")
	a, err := Decode(testFile, []byte(doc), Options{NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	h := a[0].Hash
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("hash %q is not 32 hex characters", h)
	}
	b, _ := Decode(testFile, []byte(doc), Options{NodeName: "n1"})
	if b[0].Hash != h {
		t.Errorf("same content, path and node gave hashes %s and %s", h, b[0].Hash)
	}
	if c, _ := Decode("/etc/minilet/other.yaml", []byte(doc), Options{NodeName: "n1"}); c[0].Hash == h {
		t.Error("another path gave the same hash")
	}
	if c, _ := Decode(testFile, []byte(doc), Options{NodeName: "n2"}); c[0].Hash == h {
		t.Error("another node gave the same hash")
	}
	if c, _ := Decode(testFile, []byte(strings.Replace(doc, "nginx:1.25", "nginx:1.26", 1)), Options{NodeName: "n1"}); c[0].Hash == h {
		t.Error("another image gave the same hash")
	}
	if a[0].File != testFile {
		t.Errorf("File = %q", a[0].File)
	}

	withUID := strings.Replace(doc, "  name: web\n", "  name: web\n  uid: 1234-abcd\n", 1)
	p := decodeOne(t, withUID)
	if p.UID != "1234-abcd" {
		t.Errorf("UID = %q, want metadata.uid", p.UID)
	}
	if p.Annotations[ConfigHashAnnotation] == "1234-abcd" {
		t.Error("config.hash is the UID, want the hash")
	}
}

func TestDecodeMultiDocument(t *testing.T) {
	doc := "# leading comment\n---\n" + podYAML("", "") + "---\n\n# only a comment\n---\n" +
		strings.Replace(podYAML("", ""), "name: web", "name: api", 1) + "--- # trailing marker\n...\n"
	pods, err := Decode(testFile, []byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || pods[0].Pod.Name != "web" || pods[1].Pod.Name != "api" {
		t.Fatalf("got %d pods", len(pods))
	}
	for _, empty := range []string{"", "\n\n", "# nothing here\n", "---\n---\n", "~\n", "null\n"} {
		pods, err := Decode(testFile, []byte(empty), Options{})
		if err != nil || len(pods) != 0 {
			t.Errorf("%q: got %d pods, err %v; want none and no error", empty, len(pods), err)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	doc := `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
	"spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}`
	pods, err := Decode("/etc/minilet/web.json", []byte(doc), Options{})
	if err != nil || len(pods) != 1 {
		t.Fatalf("Decode: %d pods, %v", len(pods), err)
	}
	bad := strings.Replace(doc, `"image"`, `"imagee"`, 1)
	_, err = Decode("/etc/minilet/web.json", []byte(bad), Options{})
	wantErr(t, err, "/etc/minilet/web.json: document 1: spec.containers[0].imagee: unknown field")
	_, err = Decode("/etc/minilet/web.json", []byte("{\n\"apiVersion\": \"v1\",\n}"), Options{})
	wantErr(t, err, "json syntax error at line 3")
	// JSON is YAML too: JSON in a .yaml file works.
	if _, err := Decode(testFile, []byte(doc), Options{}); err != nil {
		t.Errorf("JSON in a .yaml file: %v", err)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	// Go's JSON encoder writes DEL and U+FEFF raw, which YAML does not
	// allow unescaped: JSON in a .yaml file is read as JSON.
	doc := podYAML("", "    args: [\"\\x7f\", \"\\ufeff\", \"\\u2028\"]\n")
	pods, err := Decode(testFile, []byte(doc), Options{NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(pods[0].Pod)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(testFile, out, Options{NodeName: "n"})
	if err != nil {
		t.Fatalf("its own JSON: %v\n%s", err, out)
	}
	if again[0].Hash != pods[0].Hash || again[0].Pod.UID != pods[0].Pod.UID {
		t.Errorf("hash %s uid %s, again %s %s", pods[0].Hash, pods[0].Pod.UID, again[0].Hash, again[0].Pod.UID)
	}
	// A YAML flow mapping is not JSON, and still reads.
	if _, err := Decode(testFile, []byte("{apiVersion: v1, kind: Pod, metadata: {name: f}, spec: {containers: [{name: c, image: x}]}}"), Options{}); err != nil {
		t.Errorf("flow mapping: %v", err)
	}
}

func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\n  does not contain %q", err, s)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		// Decoding: file, document, field path.
		{"unknown field", podYAML("", "    imagee: x\n"),
			[]string{testFile + ": document 1: spec.containers[0].imagee: unknown field", `did you mean "image"`}},
		{"unknown field in document 2", podYAML("", "") + "---\n" + podYAML("", "    imagee: x\n"),
			[]string{testFile + ": document 2: spec.containers[0].imagee: unknown field"}},
		{"wrong type", podYAML("", "    ports:\n    - containerPort: eighty\n"),
			[]string{`document 1: spec.containers[0].ports[0].containerPort: wrong type: expected int32, got string "eighty"`}},
		{"number out of range", podYAML("", "    ports:\n    - containerPort: 99999999999\n"),
			[]string{"spec.containers[0].ports[0].containerPort: number 99999999999 is out of range for int32"}},
		{"fraction", podYAML("", "    ports:\n    - containerPort: 80.5\n"),
			[]string{"containerPort: wrong type: expected int32, got number 80.5"}},
		{"unquoted label number", strings.Replace(podYAML("", ""), "  name: web\n", "  name: web\n  labels: {version: 2}\n", 1),
			[]string{"metadata.labels[version]: wrong type: expected string, got number 2 (put it in quotes"}},
		{"list instead of object", podYAML("", "    resources: [cpu]\n"),
			[]string{"spec.containers[0].resources: wrong type: expected object, got a list"}},
		{"bad quantity", podYAML("", "    resources: {limits: {memory: lots}}\n"),
			[]string{`spec.containers[0].resources.limits[memory]: invalid quantity "lots"`}},
		{"bad port type", podYAML("", "    livenessProbe: {tcpSocket: {port: true}}\n"),
			[]string{"livenessProbe.tcpSocket.port: wrong type: expected an integer or a string, got boolean true"}},
		{"yaml syntax", podYAML("", "") + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n bad: indent\n",
			[]string{"document 2: yaml syntax error at line 14: did not find expected key"}},
		{"yaml syntax, scanner", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x: y\n",
			[]string{"document 1: yaml syntax error at line 4: mapping values are not allowed"}},
		{"yaml syntax, first line", "- a\nb: c\n", []string{"document 1: yaml syntax error at line 2: did not find expected '-' indicator"}},
		{"duplicate yaml key", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
			[]string{`document 1: yaml error at line 5: key "name" appears twice`}},
		{"kind", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n",
			[]string{`document 1: kind: "Ingress" is not supported`}},
		{"lower-case kind", "apiVersion: v1\nkind: pod\n", []string{`kind: "pod" must be written "Pod"`}},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", []string{"kind: missing"}},
		{"apiVersion", "apiVersion: v2\nkind: Pod\n", []string{`apiVersion: "v2" is not supported`}},
		{"many broken documents", strings.Repeat("a: b\n---\n", 100_000),
			[]string{"document 5: kind: missing", "; stopped reading after 5 broken documents"}},
		{"not an object", "- a\n- b\n", []string{"expected a Pod", "got a list"}},
		{"infinity", podYAML("", "    x: .inf\n"), []string{"unsupported value +Inf"}},
		{"duplicate pod in file", podYAML("", "") + "---\n" + podYAML("", ""),
			[]string{"document 2: pod default/web is already defined in document 1 of this file"}},
		{"server set deletion", strings.Replace(podYAML("", ""), "  name: web\n", "  name: web\n  deletionTimestamp: \"2024-01-01T00:00:00Z\"\n", 1),
			[]string{"metadata.deletionTimestamp: Forbidden"}},
		{"bad time", strings.Replace(podYAML("", ""), "  name: web\n", "  name: web\n  creationTimestamp: yesterday\n", 1),
			[]string{"metadata.creationTimestamp: invalid value"}},

		// Validation.
		{"no name", "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, image: b}]\n",
			[]string{"metadata.name: Required value"}},
		{"generateName", "apiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\nspec:\n  containers: [{name: a, image: b}]\n",
			[]string{"metadata.name: Required value: generateName is not supported"}},
		{"bad name", strings.Replace(podYAML("", ""), "name: web", "name: Web_1", 1),
			[]string{`metadata.name: Invalid value: "Web_1"`}},
		{"bad namespace", strings.Replace(podYAML("", ""), "  name: web\n", "  name: web\n  namespace: kube.system\n", 1),
			[]string{`metadata.namespace: Invalid value: "kube.system"`}},
		{"bad label", strings.Replace(podYAML("", ""), "  name: web\n", "  name: web\n  labels: {\"a b\": x}\n", 1),
			[]string{"metadata.labels[a b]: Invalid value"}},
		{"no containers", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {}\n",
			[]string{"spec.containers: Required value"}},
		{"bad container name", strings.Replace(podYAML("", ""), "name: app", "name: App", 1),
			[]string{`spec.containers[0].name: Invalid value: "App"`}},
		{"duplicate container name across lists", podYAML("  initContainers: [{name: app, image: busybox}]\n", ""),
			[]string{`spec.containers[0].name: Duplicate value: "app"`}},
		{"no image", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: a}]\n",
			[]string{"spec.containers[0].image: Required value"}},
		{"port zero", podYAML("", "    ports: [{containerPort: 0}]\n"),
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 0"}},
		{"port too big", podYAML("", "    ports: [{containerPort: 70000}]\n"),
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 70000"}},
		{"hostPort too big", podYAML("", "    ports: [{containerPort: 80, hostPort: 65536}]\n"),
			[]string{"spec.containers[0].ports[0].hostPort: Invalid value: 65536"}},
		{"protocol", podYAML("", "    ports: [{containerPort: 80, protocol: HTTP}]\n"),
			[]string{`spec.containers[0].ports[0].protocol: Unsupported value: "HTTP"`}},
		{"port name", podYAML("", "    ports: [{containerPort: 80, name: Http_Port}]\n"),
			[]string{`spec.containers[0].ports[0].name: Invalid value: "Http_Port"`}},
		{"duplicate port name", podYAML("", "    ports: [{containerPort: 80, name: http}, {containerPort: 81, name: http}]\n"),
			[]string{`spec.containers[0].ports[1].name: Duplicate value: "http"`}},
		{"host port clash", podYAML("  initContainers: [{name: i, image: b, restartPolicy: Always, ports: [{containerPort: 80, hostPort: 80}]}]\n",
			"    ports: [{containerPort: 80, hostPort: 80}]\n"),
			[]string{"spec.containers[0].ports[0].hostPort: Duplicate value"}},
		{"bad volume name", podYAML("  volumes: [{name: Data}]\n", ""),
			[]string{`spec.volumes[0].name: Invalid value: "Data"`}},
		{"duplicate volume", podYAML("  volumes: [{name: data}, {name: data}]\n", ""),
			[]string{`spec.volumes[1].name: Duplicate value: "data"`}},
		{"mount of unknown volume", podYAML("", "    volumeMounts: [{name: data, mountPath: /data}]\n"),
			[]string{`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"relative mountPath", podYAML("  volumes: [{name: data}]\n", "    volumeMounts: [{name: data, mountPath: data}]\n"),
			[]string{`spec.containers[0].volumeMounts[0].mountPath: Invalid value: "data": must be an absolute path`}},
		{"duplicate mountPath", podYAML("  volumes: [{name: a}, {name: b}]\n", "    volumeMounts: [{name: a, mountPath: /d}, {name: b, mountPath: /d/}]\n"),
			[]string{`spec.containers[0].volumeMounts[1].mountPath: Duplicate value`}},
		{"subPath escape", podYAML("  volumes: [{name: a}]\n", "    volumeMounts: [{name: a, mountPath: /d, subPath: ../etc}]\n"),
			[]string{`volumeMounts[0].subPath: Invalid value: "../etc"`}},
		{"env name", podYAML("", "    env: [{name: \"A=B\", value: x}]\n"),
			[]string{`spec.containers[0].env[0].name: Invalid value: "A=B"`}},
		{"env empty name", podYAML("", "    env: [{value: x}]\n"),
			[]string{`spec.containers[0].env[0].name: Required value`}},
		{"fieldRef path", podYAML("", "    env: [{name: A, valueFrom: {fieldRef: {fieldPath: spec.containers}}}]\n"),
			[]string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.containers"`}},
		{"fieldRef label key", podYAML("", "    env: [{name: A, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['a b']\"}}}]\n"),
			[]string{`env[0].valueFrom.fieldRef.fieldPath: Invalid value`}},
		{"value and valueFrom", podYAML("", "    env: [{name: A, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n"),
			[]string{`env[0].valueFrom: Invalid value`}},
		{"probe without handler", podYAML("", "    livenessProbe: {periodSeconds: 5}\n"),
			[]string{"spec.containers[0].livenessProbe: Required value: must have a handler"}},
		{"probe with two handlers", podYAML("", "    readinessProbe: {exec: {command: [cat, /tmp/ready]}, tcpSocket: {port: 80}}\n"),
			[]string{"spec.containers[0].readinessProbe: Forbidden: may not have more than one handler"}},
		{"probe threshold", podYAML("", "    livenessProbe: {tcpSocket: {port: 80}, failureThreshold: -1}\n"),
			[]string{"spec.containers[0].livenessProbe.failureThreshold: Invalid value: -1: must be at least 1"}},
		{"liveness success threshold", podYAML("", "    livenessProbe: {tcpSocket: {port: 80}, successThreshold: 2}\n"),
			[]string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1 for liveness and startup probes"}},
		{"startup success threshold", podYAML("", "    startupProbe: {tcpSocket: {port: 80}, successThreshold: 3}\n"),
			[]string{"startupProbe.successThreshold: Invalid value: 3"}},
		{"probe named port missing", podYAML("", "    livenessProbe: {httpGet: {port: http}}\n"),
			[]string{`spec.containers[0].livenessProbe.httpGet.port: Invalid value: "http": no port of this container has that name`}},
		{"probe port zero", podYAML("", "    readinessProbe: {tcpSocket: {port: 0}}\n"),
			[]string{`readinessProbe.tcpSocket.port: Invalid value: 0`}},
		{"probe port too big", podYAML("", "    readinessProbe: {grpc: {port: 70000}}\n"),
			[]string{`readinessProbe.grpc.port: Invalid value: 70000`}},
		{"exec without command", podYAML("", "    readinessProbe: {exec: {}}\n"),
			[]string{`readinessProbe.exec.command: Required value`}},
		{"probe on init container", podYAML("  initContainers: [{name: i, image: b, livenessProbe: {tcpSocket: {port: 80}}}]\n", ""),
			[]string{"spec.initContainers[0].livenessProbe: Forbidden"}},
		{"restartPolicy", podYAML("  restartPolicy: Sometimes\n", ""),
			[]string{`spec.restartPolicy: Unsupported value: "Sometimes"`}},
		{"container restartPolicy", podYAML("", "    restartPolicy: Always\n"),
			[]string{"spec.containers[0].restartPolicy: Forbidden"}},
		{"fsGroupChangePolicy", podYAML("  securityContext: {fsGroup: 2000, fsGroupChangePolicy: Sometimes}\n", ""),
			[]string{`spec.securityContext.fsGroupChangePolicy: Unsupported value: "Sometimes"`}},
		{"dnsPolicy", podYAML("  dnsPolicy: Cluster\n", ""),
			[]string{`spec.dnsPolicy: Unsupported value: "Cluster"`}},
		{"dnsPolicy None without config", podYAML("  dnsPolicy: None\n", ""),
			[]string{`spec.dnsConfig.nameservers: Required value`}},
		{"too many nameservers", podYAML("  dnsConfig: {nameservers: [1.1.1.1, 8.8.8.8, 9.9.9.9, 8.8.4.4]}\n", ""),
			[]string{"spec.dnsConfig.nameservers: Too many: 4: must have at most 3 items"}},
		{"bad nameserver", podYAML("  dnsConfig: {nameservers: [dns.local]}\n", ""),
			[]string{`spec.dnsConfig.nameservers[0]: Invalid value: "dns.local"`}},
		{"too many searches", podYAML("  dnsConfig: {searches: ["+strings.TrimSuffix(strings.Repeat("a.local, ", 33), ", ")+"]}\n", ""),
			[]string{"spec.dnsConfig.searches: Too many: 33: must have at most 32 items"}},
		{"requests above limits", podYAML("", "    resources: {limits: {memory: 64Mi}, requests: {memory: 128Mi}}\n"),
			[]string{`spec.containers[0].resources.requests[memory]: Invalid value: "128Mi": must be less than or equal to the memory limit of 64Mi`}},
		{"negative quantity", podYAML("", "    resources: {limits: {cpu: -1}}\n"),
			[]string{`resources.limits[cpu]: Invalid value: "-1": must not be negative`}},
		{"unknown resource", podYAML("", "    resources: {limits: {gpu: 1}}\n"),
			[]string{`resources.limits[gpu]: Unsupported value: "gpu"`}},
		{"hostname", podYAML("  hostname: my_host\n", ""),
			[]string{`spec.hostname: Invalid value: "my_host"`}},
		{"grace period", podYAML("  terminationGracePeriodSeconds: -1\n", ""),
			[]string{"spec.terminationGracePeriodSeconds: Invalid value: -1"}},
		{"relative hostPath", podYAML("  volumes: [{name: h, hostPath: {path: var/data}}]\n", ""),
			[]string{`spec.volumes[0].hostPath.path: Invalid value: "var/data": must be an absolute path`}},
		{"hostPath type", podYAML("  volumes: [{name: h, hostPath: {path: /var, type: Folder}}]\n", ""),
			[]string{`spec.volumes[0].hostPath.type: Unsupported value: "Folder"`}},
		{"two volume types", podYAML("  volumes: [{name: h, hostPath: {path: /var}, emptyDir: {}}]\n", ""),
			[]string{`spec.volumes[0]: Forbidden: may not have more than one volume type, found hostPath and emptyDir`}},
		{"bad uid", podYAML("  securityContext: {runAsUser: -1}\n", ""),
			[]string{`spec.securityContext.runAsUser: Invalid value: -1`}},

		// Refused: needs an API server.
		{"configMap volume without name", podYAML("  volumes: [{name: c, configMap: {}}]\n", ""),
			[]string{"spec.volumes[0].configMap.name: Required value"}},
		{"configMap item escapes", podYAML("  volumes: [{name: c, configMap: {name: cfg, items: [{key: a, path: ../x}]}}]\n", ""),
			[]string{"spec.volumes[0].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'"}},
		{"configMap item twice", podYAML("  volumes: [{name: c, configMap: {name: cfg, items: [{key: a, path: x}, {key: b, path: ./x}]}}]\n", ""),
			[]string{"spec.volumes[0].configMap.items[1].path", "conflicting duplicate paths"}},
		{"secret mode", podYAML("  volumes: [{name: c, secret: {secretName: s, defaultMode: 01777}}]\n", ""),
			[]string{"spec.volumes[0].secret.defaultMode: Invalid value: 1023: must be a number between 0 and 0777"}},
		{"pvc without name", podYAML("  volumes: [{name: c, persistentVolumeClaim: {}}]\n", ""),
			[]string{"spec.volumes[0].persistentVolumeClaim.claimName: Required value"}},
		{"projected token", podYAML("  volumes: [{name: c, projected: {sources: [{serviceAccountToken: {path: t}}]}}]\n", ""),
			[]string{"spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden", "TokenRequest"}},
		{"projected trust bundle", podYAML("  volumes: [{name: c, projected: {sources: [{clusterTrustBundle: {path: t}}]}}]\n", ""),
			[]string{"spec.volumes[0].projected.sources[0].clusterTrustBundle: Forbidden"}},
		{"projected two sources", podYAML("  volumes: [{name: c, projected: {sources: [{configMap: {name: a}, secret: {name: b}}]}}]\n", ""),
			[]string{"spec.volumes[0].projected.sources[0]: Forbidden: must have exactly one source"}},
		{"downwardAPI status", podYAML("  volumes: [{name: c, downwardAPI: {items: [{path: ip, fieldRef: {fieldPath: status.podIP}}]}}]\n", ""),
			[]string{"spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: \"status.podIP\""}},
		{"downwardAPI resource without container", podYAML("  volumes: [{name: c, downwardAPI: {items: [{path: cpu, resourceFieldRef: {resource: limits.cpu}}]}}]\n", ""),
			[]string{"spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: Required value"}},
		{"ephemeral without template", podYAML("  volumes: [{name: c, ephemeral: {}}]\n", ""),
			[]string{"spec.volumes[0].ephemeral.volumeClaimTemplate: Required value"}},
		{"nfs volume", podYAML("  volumes: [{name: c, nfs: {server: s, path: /x}}]\n", ""),
			[]string{"spec.volumes[0].nfs: Forbidden: volume type nfs is not supported by minilet"}},
		{"seccomp Localhost without profile", podYAML("  securityContext: {seccompProfile: {type: Localhost}}\n", ""),
			[]string{"spec.securityContext.seccompProfile.localhostProfile: Required value"}},
		{"seccomp profile escapes", podYAML("", "    securityContext: {seccompProfile: {type: Localhost, localhostProfile: ../x.json}}\n"),
			[]string{"spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: \"../x.json\": must not contain '..'"}},
		{"seccomp profile with RuntimeDefault", podYAML("  securityContext: {seccompProfile: {type: RuntimeDefault, localhostProfile: x.json}}\n", ""),
			[]string{"can only be set if type is Localhost"}},
		{"apparmor Localhost without profile", podYAML("  securityContext: {appArmorProfile: {type: Localhost}}\n", ""),
			[]string{"spec.securityContext.appArmorProfile.localhostProfile: Required value"}},
		{"apparmor annotation for no container", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations: {container.apparmor.security.beta.kubernetes.io/nope: runtime/default}\nspec:\n  containers: [{name: app, image: x}]\n",
			[]string{"metadata.annotations[container.apparmor.security.beta.kubernetes.io/nope]: Invalid value: \"nope\": container not found"}},
		{"sysctl name", podYAML("  securityContext: {sysctls: [{name: 'Net.IPv4', value: '1'}]}\n", ""),
			[]string{"spec.securityContext.sysctls[0].name: Invalid value: \"Net.IPv4\""}},
		{"sysctl twice", podYAML("  securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: '1'}, {name: net/ipv4/tcp_syncookies, value: '0'}]}\n", ""),
			[]string{"spec.securityContext.sysctls[1].name: Duplicate value"}},
		{"net sysctl with hostNetwork", podYAML("  hostNetwork: true\n  securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: '1'}]}\n", ""),
			[]string{"may not be specified when 'hostNetwork' is true"}},
		{"ipc sysctl with hostIPC", podYAML("  hostIPC: true\n  securityContext: {sysctls: [{name: kernel.shm_rmid_forced, value: '1'}]}\n", ""),
			[]string{"may not be specified when 'hostIPC' is true"}},
		{"windowsOptions", podYAML("  securityContext: {windowsOptions: {runAsUserName: x}}\n", ""),
			[]string{"spec.securityContext.windowsOptions: Forbidden"}},
		{"extended resource fraction", podYAML("", "    resources: {limits: {example.com/gpu: 500m}}\n"),
			[]string{"spec.containers[0].resources.limits[example.com/gpu]: Invalid value: \"500m\": must be an integer"}},
		{"extended resource overcommitted", podYAML("", "    resources: {limits: {example.com/gpu: 2}, requests: {example.com/gpu: 1}}\n"),
			[]string{"spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"1\": must be equal to example.com/gpu limit of 2"}},
		{"stdin", podYAML("", "    stdin: true\n"), []string{"spec.containers[0].stdin: Forbidden", "only with a terminal (tty: true)"}},
		{"readinessGates", podYAML("  readinessGates: [{conditionType: ready}]\n", ""), []string{"spec.readinessGates: Forbidden", "never be Ready"}},
		{"schedulingGates", podYAML("  schedulingGates: [{name: g}]\n", ""), []string{"spec.schedulingGates: Forbidden"}},
		{"pod-level resources", podYAML("  resources: {limits: {cpu: 1}}\n", ""), []string{"spec.resources: Forbidden"}},
		{"hugepages", podYAML("", "    resources: {limits: {hugepages-2Mi: 4Mi}}\n"), []string{"spec.containers[0].resources.limits[hugepages-2Mi]: Forbidden"}},
		{"hugepages emptyDir", podYAML("  volumes: [{name: h, emptyDir: {medium: HugePages}}]\n", ""), []string{"spec.volumes[0].emptyDir.medium: Forbidden"}},
		{"stopSignal", podYAML("", "    lifecycle: {stopSignal: SIGUSR1}\n"), []string{"spec.containers[0].lifecycle.stopSignal: Forbidden"}},
		{"readiness probe grace", podYAML("", "    readinessProbe: {tcpSocket: {port: 80}, terminationGracePeriodSeconds: 3}\n"), []string{"must not be set for readinessProbes"}},
		{"hostnameOverride", podYAML("  hostnameOverride: x\n", ""), []string{"spec.hostnameOverride: Forbidden"}},
		{"supplementalGroupsPolicy", podYAML("  securityContext: {supplementalGroupsPolicy: Loose}\n", ""), []string{"spec.securityContext.supplementalGroupsPolicy: Unsupported value"}},
		{"FQDN too long", podYAML("  subdomain: "+strings.Repeat("s", 40)+"\n  setHostnameAsFQDN: true\n", ""), []string{"spec.setHostnameAsFQDN: Invalid value", "longer than 64"}},
		{"configMapKeyRef without key", podYAML("", "    env: [{name: A, valueFrom: {configMapKeyRef: {name: c}}}]\n"),
			[]string{"spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"}},
		{"secretKeyRef bad key", podYAML("", "    env: [{name: A, valueFrom: {secretKeyRef: {name: c, key: 'a b'}}}]\n"),
			[]string{"spec.containers[0].env[0].valueFrom.secretKeyRef.key: Invalid value: \"a b\""}},
		{"resourceFieldRef unknown", podYAML("", "    env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}]\n"),
			[]string{"spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\""}},
		{"resourceFieldRef other container", podYAML("", "    env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.cpu, containerName: other}}}]\n"),
			[]string{"resourceFieldRef.containerName: Invalid value: \"other\""}},
		{"envFrom both", podYAML("", "    envFrom: [{configMapRef: {name: c}, secretRef: {name: s}}]\n"),
			[]string{"spec.containers[0].envFrom[0]: Invalid value", "more than one field"}},
		{"envFrom prefix", podYAML("", "    envFrom: [{prefix: '1=', configMapRef: {name: c}}]\n"),
			[]string{"spec.containers[0].envFrom[0].prefix: Invalid value"}},
		{"imagePullSecrets", podYAML("  imagePullSecrets: [{name: regcred}]\n", ""),
			[]string{"spec.imagePullSecrets: Forbidden", "--image-credentials docker config.json"}},
		{"service account", podYAML("  serviceAccountName: builder\n", ""),
			[]string{"spec.serviceAccountName: Forbidden"}},
		{"token", podYAML("  automountServiceAccountToken: true\n", ""),
			[]string{"spec.automountServiceAccountToken: Forbidden"}},
		{"ephemeral containers", podYAML("  ephemeralContainers: [{name: debug, image: busybox}]\n", ""),
			[]string{"spec.ephemeralContainers: Forbidden"}},
		{"user namespaces", podYAML("  hostUsers: false\n", ""),
			[]string{"spec.hostUsers: Forbidden"}},
		{"windows", podYAML("  os: {name: windows}\n", ""),
			[]string{`spec.os.name: Unsupported value: "windows"`}},
		{"runtimeClass", podYAML("  runtimeClassName: gvisor\n", ""),
			[]string{"spec.runtimeClassName: Forbidden"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(testFile, []byte(c.doc), Options{})
			wantErr(t, err, append([]string{testFile + ": document "}, c.want...)...)
		})
	}
}

func TestDecodeTooBig(t *testing.T) {
	big := podYAML("", "") + strings.Repeat("# padding\n", MaxFileSize/10+1)
	_, err := Decode(testFile, []byte(big), Options{})
	wantErr(t, err, testFile+": file has 1048683 bytes, more than the limit for a manifest, 1 MiB")
}

func TestDecodeAccepts(t *testing.T) {
	cases := map[string]string{
		"informational fields": strings.Replace(podYAML(`  nodeSelector: {disk: ssd}
  priority: 1000
  priorityClassName: high
  tolerations: [{key: k, operator: Exists}]
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: [b]}]}]}}}
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
`, ""), "  name: web\n", "  name: web\n  labels: {app: web, version: \"2\"}\n  annotations: {note: hello}\n", 1),
		"default service account":   podYAML("  serviceAccountName: default\n  automountServiceAccountToken: false\n", ""),
		"user namespaces off":       podYAML("  hostUsers: true\n  os: {name: linux}\n", ""),
		"readiness success 3":       podYAML("", "    readinessProbe: {tcpSocket: {port: 80}, successThreshold: 3}\n"),
		"named probe port":          podYAML("", "    ports: [{name: http, containerPort: 80}]\n    livenessProbe: {httpGet: {port: http}}\n"),
		"label and annotation refs": podYAML("", "    env: [{name: A, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}, {name: B, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['x/y']\"}}}, {name: C, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]\n"),
		"relaxed env name":          podYAML("", "    env: [{name: \"my.var-1 x\", value: x}]\n"),
		"sidecar":                   podYAML("  initContainers: [{name: side, image: b, restartPolicy: Always, readinessProbe: {exec: {command: [cat, /tmp/ready]}}}]\n", ""),
		"hostPath types":            podYAML("  volumes: [{name: a, hostPath: {path: /a, type: DirectoryOrCreate}}, {name: b, hostPath: {path: /b, type: \"\"}}, {name: c, emptyDir: {medium: Memory, sizeLimit: 1Gi}}]\n", ""),
		"dns":                       podYAML("  dnsPolicy: None\n  dnsConfig: {nameservers: [1.1.1.1, \"2001:db8::1\", 9.9.9.9], searches: [a.local, b.local.], options: [{name: ndots, value: \"2\"}]}\n", ""),
		"int or string port":        podYAML("", "    livenessProbe: {tcpSocket: {port: 8080}}\n"),
		"number as float":           podYAML("", "    ports: [{containerPort: 80.0}]\n"),
		"status ignored":            podYAML("", "") + "status: {phase: Running}\n",
		"yes is a bool":             podYAML("", "    tty: yes\n"),
		"anchors and merge": `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - &base {name: app, image: "nginx:1.25", env: [{name: A, value: x}]}
  - <<: *base
    name: app2
`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(testFile, []byte(doc), Options{}); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}
