package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

const objectsYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  nginx.conf: |
    server { listen 80; }
  mode: production
binaryData:
  logo.png: iVBORw0KGgo=
---
apiVersion: v1
kind: Secret
metadata:
  name: web-tls
  namespace: shop
type: kubernetes.io/tls
data:
  tls.crt: Y2VydA==
  tls.key: a2V5
stringData:
  tls.key: overridden
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOncePod]
  resources:
    requests: {storage: 1Gi}
---
` + "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx:1.25\n"

func TestDecodeObjects(t *testing.T) {
	pods, objs, err := DecodeAll(testFile, []byte(objectsYAML), Options{NodeName: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || len(objs) != 3 {
		t.Fatalf("got %d pods and %d objects, want 1 and 3", len(pods), len(objs))
	}
	cm, sec, claim := objs[0].ConfigMap, objs[1].Secret, objs[2].Claim
	if cm == nil || sec == nil || claim == nil {
		t.Fatalf("objects in the wrong order or kinds: %v %v %v", objs[0].Kind(), objs[1].Kind(), objs[2].Kind())
	}
	if cm.Namespace != "default" || cm.Data["mode"] != "production" || string(cm.BinaryData["logo.png"]) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("configmap: %+v", cm)
	}
	if sec.Namespace != "shop" || string(sec.Data["tls.key"]) != "overridden" || string(sec.Data["tls.crt"]) != "cert" || sec.StringData != nil {
		t.Errorf("secret: stringData must be merged into data (and win), then dropped: %+v", sec)
	}
	if claim.Spec.VolumeMode == nil || *claim.Spec.VolumeMode != v1.PersistentVolumeFilesystem {
		t.Errorf("claim: volumeMode not defaulted: %+v", claim.Spec)
	}
	for _, o := range objs {
		if len(o.Hash) != 32 || o.File != testFile {
			t.Errorf("%s: hash %q file %q", o.Key(), o.Hash, o.File)
		}
	}
	if objs[1].Key() != "Secret shop/web-tls" {
		t.Errorf("key %q", objs[1].Key())
	}
	// Another value, another hash.
	_, again, err := DecodeAll(testFile, []byte(strings.Replace(objectsYAML, "production", "staging", 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Hash == objs[0].Hash || again[1].Hash != objs[1].Hash {
		t.Errorf("hashes: configmap %s → %s (must change), secret %s → %s (must not)", objs[0].Hash, again[0].Hash, objs[1].Hash, again[1].Hash)
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	const secretValue = "hunter2-very-secret"
	cases := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"bad configmap key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  'a/b': x\n",
			[]string{"document 1", "data[a/b]", "a valid config key"}},
		{"key in data and binaryData", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: x}\nbinaryData: {k: eA==}\n",
			[]string{"data[k]", "duplicate of key present in binaryData"}},
		{"unknown field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatas: {k: x}\n",
			[]string{"datas: unknown field", `did you mean "data"`}},
		{"configmap without name", "apiVersion: v1\nkind: ConfigMap\ndata: {k: x}\n",
			[]string{"metadata.name: Required value: every configmap needs a name"}},
		{"bad base64", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: " + secretValue + "!\n",
			[]string{"data[password]", "not valid base64", "stringData"}},
		{"number in stringData", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  pin: 12345678901\n",
			[]string{"stringData[pin]", "expected string, got a number (value not shown)"}},
		{"tls without key", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: " + secretValue + "\n",
			[]string{"data[tls.key]: Required value"}},
		{"dockerconfigjson not JSON", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{" + secretValue + "'\n",
			[]string{"data[.dockerconfigjson]", "must be a JSON object", "redacted"}},
		{"basic-auth without either", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/basic-auth\nstringData: {other: x}\n",
			[]string{"data[username]: Required value"}},
		{"ssh-auth without key", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/ssh-auth\n",
			[]string{"data[ssh-privatekey]: Required value"}},
		{"service account token", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/service-account-token\n",
			[]string{"type: Forbidden", "token controller"}},
		{"claim without storage", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  accessModes: [ReadWriteOnce]\n",
			[]string{"spec.resources.requests[storage]: Required value"}},
		{"claim without modes", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  resources: {requests: {storage: 1Gi}}\n",
			[]string{"spec.accessModes: Required value"}},
		{"claim RWOP with others", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  accessModes: [ReadWriteOncePod, ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
			[]string{"may not use ReadWriteOncePod with other access modes"}},
		{"claim block", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  accessModes: [ReadWriteOnce]\n  volumeMode: Block\n  resources: {requests: {storage: 1Gi}}\n",
			[]string{"spec.volumeMode: Unsupported value: \"Block\""}},
		{"claim volumeName", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec:\n  accessModes: [ReadWriteOnce]\n  volumeName: pv1\n  resources: {requests: {storage: 1Gi}}\n",
			[]string{"spec.volumeName: Forbidden", "directory on this host"}},
		{"unsupported kind", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: d}\n",
			[]string{`kind: "Ingress" is not supported`, "Pod, ConfigMap, Secret, PersistentVolumeClaim (v1); Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1); Job, CronJob (batch/v1)"}},
		{"kind case", "apiVersion: v1\nkind: configmap\nmetadata: {name: d}\n",
			[]string{`kind: "configmap" must be written "ConfigMap"`}},
		{"wrong version", "apiVersion: v2\nkind: Secret\nmetadata: {name: d}\n",
			[]string{`apiVersion: "v2" is not supported for kind Secret`}},
		{"same object twice", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			[]string{"document 2: configmap default/c is already defined in document 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeAll(testFile, []byte(tc.doc), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, testFile+": ") {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			for _, leak := range []string{secretValue, "12345678901"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error shows a secret value:\n%s", msg)
				}
			}
		})
	}
	// A ConfigMap and a Pod of the same name are different objects.
	if _, _, err := DecodeAll(testFile, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n---\n"+podYAML("", "")), Options{}); err != nil {
		t.Errorf("a configmap and a pod named alike: %v", err)
	}
}

// A 1 MiB file cannot hold more than 1 MiB of values, but a ConfigMap
// made otherwise (from the API, one day) is checked alike.
func TestConfigMapSizeLimit(t *testing.T) {
	cm := &v1.ConfigMap{Data: map[string]string{"a": strings.Repeat("x", 600<<10), "b": strings.Repeat("y", 600<<10)}}
	cm.Name, cm.Namespace = "c", "default"
	errs := validateConfigMap(cm)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "data: Too long") {
		t.Errorf("errors: %v", errs)
	}
}

func mkObj(file, name, hash string) Object {
	return Object{File: file, Hash: hash, ConfigMap: &v1.ConfigMap{}}.withName(name)
}

func (o Object) withName(name string) Object {
	o.Meta().Name, o.Meta().Namespace = name, "default"
	return o
}

func objs(s State) string {
	var out []string
	for _, o := range s.Objects {
		out = append(out, o.Meta().Name+"@"+o.File+"#"+o.Hash)
	}
	return strings.Join(out, ",")
}

func TestBuildStateObjects(t *testing.T) {
	prev := buildState([]fileResult{{path: "a", objects: []Object{mkObj("a", "cfg", "1")}}}, State{})
	if got := objs(prev); got != "cfg@a#1" {
		t.Fatalf("add: %s", got)
	}
	// Another file defining the same ConfigMap is refused and held.
	st := buildState([]fileResult{
		{path: "a", objects: []Object{mkObj("a", "cfg", "1")}},
		{path: "b", objects: []Object{mkObj("b", "cfg", "2")}, pods: []Pod{mkPod("b", "web", "p")}},
	}, prev)
	if got := objs(st); got != "cfg@a#1" || len(st.Pods) != 0 || len(st.Errors) != 1 ||
		!strings.Contains(st.Errors[0].Err.Error(), "configmap default/cfg is already defined in a") {
		t.Fatalf("conflict: %s pods %d errors %v", got, len(st.Pods), st.Errors)
	}
	// A broken file keeps its objects.
	st = buildState([]fileResult{bad("a")}, prev)
	if got := objs(st); got != "cfg@a#1" || len(st.HeldFiles) != 1 {
		t.Fatalf("held: %s %v", got, st.HeldFiles)
	}
	// A removed file takes them away.
	if st = buildState(nil, prev); len(st.Objects) != 0 {
		t.Fatalf("removed: %s", objs(st))
	}
	// Immutable: a change of data is refused, the old object stays.
	imm := func(val string, hash string) Object {
		o := mkObj("a", "cfg", hash)
		o.ConfigMap.Immutable = ptr(true)
		o.ConfigMap.Data = map[string]string{"k": val}
		return o
	}
	prev = buildState([]fileResult{{path: "a", objects: []Object{imm("x", "1")}}}, State{})
	st = buildState([]fileResult{{path: "a", objects: []Object{imm("y", "2")}}}, prev)
	if got := objs(st); got != "cfg@a#1" || len(st.Errors) != 1 || !strings.Contains(st.Errors[0].Err.Error(), "configmap default/cfg is immutable") {
		t.Fatalf("immutable: %s %v", got, st.Errors)
	}
	// Its labels may change.
	relabelled := imm("x", "3")
	relabelled.ConfigMap.Labels = map[string]string{"a": "b"}
	if st = buildState([]fileResult{{path: "a", objects: []Object{relabelled}}}, prev); len(st.Errors) != 0 || objs(st) != "cfg@a#3" {
		t.Fatalf("immutable, relabelled: %s %v", objs(st), st.Errors)
	}
}

func TestSecretFilePermissions(t *testing.T) {
	dir := t.TempDir()
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: x}\n"
	write := func(name, data string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("open.yaml", secret, 0o644)
	write("closed.yaml", strings.Replace(secret, "name: s", "name: t", 1), 0o600)
	write("config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", 0o644)
	files, err := listDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := buildState(files, State{})
	if len(st.Objects) != 2 || len(st.Errors) != 1 {
		t.Fatalf("objects %s errors %v", objs(st), st.Errors)
	}
	msg := st.Errors[0].Error()
	if !strings.Contains(msg, "open.yaml") || !strings.Contains(msg, "readable by group or others (mode 0644)") || !strings.Contains(msg, "chmod 600") {
		t.Errorf("error: %s", msg)
	}
}

func TestObjectSet(t *testing.T) {
	_, list, err := DecodeAll(testFile, []byte(objectsYAML), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewObjectSet(list)
	if c, ok := s.ConfigMap("default", "web-config"); !ok || c.Name != "web-config" {
		t.Error("configmap not found")
	}
	if _, ok := s.Secret("default", "web-tls"); ok {
		t.Error("secret found in the wrong namespace")
	}
	if _, ok := s.Secret("shop", "web-tls"); !ok {
		t.Error("secret not found")
	}
	if _, ok := s.Claim("default", "data"); !ok {
		t.Error("claim not found")
	}
	if s.Version(KindSecret, "shop", "web-tls") != list[1].Hash || s.Version(KindSecret, "shop", "nope") != "" {
		t.Error("versions")
	}
	var none *ObjectSet
	if _, ok := none.ConfigMap("default", "web-config"); ok {
		t.Error("a nil set holds nothing")
	}
}
