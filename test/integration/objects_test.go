package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

// The secret value these tests look for wherever it must not be.
const secretValue = "s3cret-Value-0451"

// writeSecretManifest writes a manifest that holds a Secret, readable by
// its owner only.
func (d *daemon) writeSecretManifest(name, content string) {
	d.t.Helper()
	if err := d.WriteManifestMode(name, content, 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// cliErr runs a minilet client command and returns its output and error.
func (d *daemon) cliErr(args ...string) (string, error) {
	cmd := exec.Command(env.minilet, append([]string{"--run-dir", d.RunDir}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestConfigMapAndSecret: a ConfigMap and a Secret from files beside the
// pod, mounted and in env, read from inside the container; the Secret's
// volume is a tmpfs and its value is nowhere minilet shows or logs.
func TestConfigMapAndSecret(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("config.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  app.conf: "listen 8080\n"
  MODE: production
`)
	d.writeSecretManifest("secret.yaml", `apiVersion: v1
kind: Secret
metadata: {name: db}
stringData:
  password: `+secretValue+`
`)
	d.writeManifest("web.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: cfg, configMap: {name: web-config, items: [{key: app.conf, path: conf/app.conf, mode: 0400}]}}
  - {name: creds, secret: {secretName: db, defaultMode: 0440}}
  - name: all
    projected:
      sources:
      - configMap: {name: web-config, items: [{key: MODE, path: mode}]}
      - secret: {name: db, items: [{key: password, path: pw}]}
      - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  containers:
  - name: app
    image: %s
    command: ["sleep", "3600"]
    env:
    - {name: PASS, valueFrom: {secretKeyRef: {name: db, key: password}}}
    - {name: MODE2, valueFrom: {configMapKeyRef: {name: web-config, key: MODE}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    envFrom:
    - {prefix: CFG_, configMapRef: {name: web-config}}
    resources: {limits: {memory: 64Mi}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/web}
    - {name: creds, mountPath: /etc/creds}
    - {name: all, mountPath: /etc/all}
`, BusyboxImage))
	p := d.waitPod("web", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	pid := pids["app"]
	root := fmt.Sprintf("/proc/%d/root", pid)
	files := map[string]string{
		"/etc/web/conf/app.conf": "listen 8080\n",
		"/etc/creds/password":    secretValue,
		"/etc/all/mode":          "production",
		"/etc/all/pw":            secretValue,
		"/etc/all/labels":        `app="web"`,
	}
	for path, want := range files {
		got, err := os.ReadFile(root + path)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	if fi, err := os.Stat(root + "/etc/web/conf/app.conf"); err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("app.conf mode: %v %v, want 0400", fi.Mode(), err)
	}
	if fi, err := os.Stat(root + "/etc/creds/password"); err != nil || fi.Mode().Perm() != 0o440 {
		t.Errorf("password mode: %v %v, want 0440", fi.Mode(), err)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.Split(string(environ), "\x00")
	for _, want := range []string{"PASS=" + secretValue, "MODE2=production", "CFG_MODE=production", "CFG_app.conf=listen 8080\n", "MEM=64"} {
		if !slices.Contains(vars, want) {
			t.Errorf("env lacks %q: %q", want, vars)
		}
	}
	for _, target := range []string{"/etc/creds", "/etc/all"} {
		if typ := mountFSType(pid, target); typ != "tmpfs" {
			t.Errorf("%s is on %q inside the container, want tmpfs", target, typ)
		}
	}
	if typ := mountFSType(pid, "/etc/web"); typ == "tmpfs" || typ == "" {
		t.Errorf("/etc/web (a configMap) is on %q", typ)
	}
	// Read-only, as the kubelet mounts these volumes.
	if err := os.WriteFile(root+"/etc/web/new", []byte("x"), 0o644); err == nil {
		t.Error("a configMap volume is writable")
	}

	// The value is in no output of minilet.
	shown := map[string]string{
		"get secret -o yaml":  d.cli("get", "secret", "db", "-o", "yaml"),
		"get secrets -o json": d.cli("get", "secrets", "-A", "-o", "json"),
		"describe secret":     d.cli("describe", "secret", "db"),
		"describe pod":        d.cli("describe", "pod", "web"),
		"get pod -o yaml":     d.cli("get", "pod", "web", "-o", "yaml"),
		"metrics":             d.metrics(),
		"events":              eventSummary(d.events("web")),
		"daemon log":          d.output.String(),
	}
	for what, out := range shown {
		if strings.Contains(out, secretValue) {
			t.Errorf("%s shows the secret value", what)
		}
	}
	if out := shown["describe secret"]; !strings.Contains(out, "password:") || !strings.Contains(out, fmt.Sprintf("%d bytes", len(secretValue))) {
		t.Errorf("describe secret:\n%s", out)
	}
	if out := d.cli("get", "configmaps"); !strings.Contains(out, "web-config") || !strings.Contains(out, "DATA") {
		t.Errorf("get configmaps:\n%s", out)
	}
	if out := d.cli("get", "secrets"); !strings.Contains(out, "db") || !strings.Contains(out, "Opaque") {
		t.Errorf("get secrets:\n%s", out)
	}
	// No secret reached the disk under --root-dir.
	filepath.WalkDir(d.RootDir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !de.Type().IsRegular() {
			return nil
		}
		if strings.HasPrefix(path, "/proc") {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), secretValue) && !onTmpfs(path) {
			t.Errorf("%s holds the secret value on disk", path)
		}
		return nil
	})
}

// onTmpfs reports whether path is on a tmpfs.
func onTmpfs(path string) bool {
	out, err := exec.Command("stat", "-f", "-c", "%T", path).Output()
	return err == nil && strings.TrimSpace(string(out)) == "tmpfs"
}

// TestConfigMapEditUpdatesVolume: an edit of a ConfigMap is seen inside a
// running container without a restart, env stays as it was, and a reader
// that resolves ..data once never sees a mix of two versions.
func TestConfigMapEditUpdatesVolume(t *testing.T) {
	d := startDaemon(t)
	cm := func(v int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: live}\ndata: {a: v%d, b: v%d, c: v%d}\n", v, v, v)
	}
	d.writeManifest("live.yaml", cm(0))
	d.writeManifest("reader.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: live, configMap: {name: live}}]
  containers:
  - name: app
    image: %s
    env: [{name: A, valueFrom: {configMapKeyRef: {name: live, key: a}}}]
    command:
    - sh
    - -c
    - |
      n=0
      while true; do
        if cd /live/..data 2>/dev/null; then
          a=$(cat a 2>/dev/null); b=$(cat b 2>/dev/null); c=$(cat c 2>/dev/null)
          if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ]; then
            n=$((n+1))
            if [ "$a" != "$b" ] || [ "$b" != "$c" ]; then echo "$a $b $c" >> /tmp/mix; fi
            if [ $((n %% 5)) = 0 ]; then echo $n > /tmp/reads.new; mv /tmp/reads.new /tmp/reads; fi
          fi
          cd /
        fi
      done
    volumeMounts: [{name: live, mountPath: /live}]
`, BusyboxImage))
	p := d.waitPod("reader", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	root := fmt.Sprintf("/proc/%d/root", pids["app"])
	reads := func() int {
		b, _ := os.ReadFile(root + "/tmp/reads")
		n := 0
		fmt.Sscanf(string(b), "%d", &n)
		return n
	}
	// The reader reads while each version is current.
	readMore := func() {
		from := reads()
		d.eventually(20*time.Second, "the reader reads on", func() error {
			if n := reads(); n <= from+5 {
				return fmt.Errorf("%d reads", n)
			}
			return nil
		})
	}
	readMore()
	var lat []time.Duration
	for v := 1; v <= 10; v++ {
		start := time.Now()
		d.writeManifest("live.yaml", cm(v))
		want := fmt.Sprintf("v%d", v)
		// Polled every 2 ms (eventually's 50 ms would hide the figure).
		deadline := start.Add(20 * time.Second)
		for {
			got, err := os.ReadFile(root + "/live/c")
			if err == nil && string(got) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the container does not see %s after 20s: c = %q (%v)", want, got, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
		readMore()
	}
	slices.Sort(lat)
	t.Logf("edit → visible inside: median %v, max %v over %d edits", lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))
	p, err := d.pod("default", "reader")
	if err != nil {
		t.Fatal(err)
	}
	if n := restartsOf(p, "app"); n != 0 {
		t.Errorf("restartCount %d after ConfigMap edits, want 0", n)
	}
	if mix, err := os.ReadFile(root + "/tmp/mix"); err == nil {
		t.Errorf("the reader saw a mix of versions:\n%s", mix)
	}
	t.Logf("the reader read all three files %d times", reads())
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids["app"]))
	if !strings.Contains(string(environ), "A=v0\x00") {
		t.Errorf("env changed with the ConfigMap (it must not): %q", environ)
	}
	// Removing the ConfigMap leaves the pod running with its last files.
	d.removeManifest("live.yaml")
	d.waitEvent("reader", "FailedMount", `configmap "live" not found`, 20*time.Second)
	if got, _ := os.ReadFile(root + "/live/a"); string(got) != "v10" {
		t.Errorf("after the ConfigMap was removed, a = %q, want the last content v10", got)
	}
	if p, err := d.pod("default", "reader"); err != nil || allRunning(p) != nil {
		t.Errorf("pod after its ConfigMap was removed: %v %v", err, allRunning(p))
	}
}

// TestMissingObjectsWait: a pod whose ConfigMap is missing waits with the
// kubelet's reasons and starts once the file appears; with optional: true
// it starts at once.
func TestMissingObjectsWait(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("pods.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: vol-waiter}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: c, configMap: {name: late}}]
  containers: [{name: app, image: %[1]s, command: [sleep, "3600"], volumeMounts: [{name: c, mountPath: /c}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: env-waiter}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: %[1]s
    command: [sleep, "3600"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: late, key: x}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: optional}
spec:
  terminationGracePeriodSeconds: 0
  volumes: [{name: c, configMap: {name: late, optional: true}}]
  containers:
  - name: app
    image: %[1]s
    command: [sleep, "3600"]
    env: [{name: X, valueFrom: {secretKeyRef: {name: nope, key: x, optional: true}}}]
    volumeMounts: [{name: c, mountPath: /c}]
`, BusyboxImage))
	d.waitPod("optional", 60*time.Second, "runs with its optional objects missing", allRunning)
	d.waitPod("vol-waiter", 30*time.Second, "waits in ContainerCreating", func(p *v1.Pod) error {
		cs := containerStatus(p, "app")
		if p.Status.Phase != v1.PodPending || cs == nil || cs.State.Waiting == nil || cs.State.Waiting.Reason != "ContainerCreating" {
			return fmt.Errorf("phase %s, %+v", p.Status.Phase, cs)
		}
		return nil
	})
	d.waitEvent("vol-waiter", "FailedMount", `MountVolume.SetUp failed for volume "c" : configmap "late" not found`, 30*time.Second)
	d.waitPod("env-waiter", 30*time.Second, "is CreateContainerConfigError", func(p *v1.Pod) error {
		cs := containerStatus(p, "app")
		if cs == nil || cs.State.Waiting == nil || cs.State.Waiting.Reason != "CreateContainerConfigError" || cs.State.Waiting.Message != `configmap "late" not found` {
			return fmt.Errorf("%+v", cs)
		}
		return nil
	})
	d.waitEvent("env-waiter", "Failed", `Error: configmap "late" not found`, 10*time.Second)

	d.writeManifest("late.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\ndata: {x: arrived}\n")
	p := d.waitPod("vol-waiter", 30*time.Second, "runs once its ConfigMap exists", allRunning)
	_, pids := d.pids(p)
	if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/c/x", pids["app"])); string(got) != "arrived" {
		t.Errorf("vol-waiter's file x = %q", got)
	}
	p = d.waitPod("env-waiter", 30*time.Second, "runs once its ConfigMap exists", allRunning)
	_, pids = d.pids(p)
	if environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids["app"])); !strings.Contains(string(environ), "X=arrived\x00") {
		t.Errorf("env-waiter's env: %q", environ)
	}
	// The optional pod's volume fills in, without a restart.
	p = d.waitPod("optional", 30*time.Second, "still runs", allRunning)
	_, pids = d.pids(p)
	d.eventually(20*time.Second, "the optional volume shows the ConfigMap", func() error {
		got, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/c/x", pids["app"]))
		if string(got) != "arrived" {
			return fmt.Errorf("x = %q (%v)", got, err)
		}
		return nil
	})
	if n := restartsOf(p, "app"); n != 0 {
		t.Errorf("optional pod restarted %d times", n)
	}
}

// TestSecretFileReadableByOthersRefused: a Secret in a file that group or
// others can read is refused with a clear error; the file's other pods do
// not start and other files' pods are untouched.
func TestSecretFileReadableByOthersRefused(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("ok.yaml", fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers: [{name: app, image: %s, command: [sleep, \"3600\"]}]\n", BusyboxImage))
	d.waitPod("ok", 60*time.Second, "runs", allRunning)
	d.writeManifest("leaky.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: leaky}\nstringData: {password: "+secretValue+"}\n")
	d.eventually(20*time.Second, "the file is refused", func() error {
		errs := d.manifestErrors()
		for _, e := range errs {
			if strings.Contains(e, "leaky.yaml") && strings.Contains(e, "readable by group or others (mode 0644)") && strings.Contains(e, "chmod 600") {
				if strings.Contains(e, secretValue) {
					t.Errorf("the error shows the secret: %s", e)
				}
				return nil
			}
		}
		return fmt.Errorf("manifest errors: %q", errs)
	})
	if out := d.cli("get", "secrets"); strings.Contains(out, "leaky") {
		t.Errorf("a refused Secret is listed:\n%s", out)
	}
	if p, err := d.pod("default", "ok"); err != nil || allRunning(p) != nil || restartsOf(p, "app") != 0 {
		t.Errorf("the other pod was harmed: %v", err)
	}
}

// TestPersistentVolumeClaim: a claim's data survives a manifest edit (new
// UID), a delete and re-add of the pod and a daemon restart; volumes rm
// refuses a claim in use; ReadWriteOncePod admits one pod at a time; an
// ephemeral volume goes with its pod.
func TestPersistentVolumeClaim(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("claim.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOncePod]
  resources: {requests: {storage: 1Gi}}
`)
	counter := func(name, note string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {fsGroup: 2000}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - name: scratch
    ephemeral:
      volumeClaimTemplate:
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
  containers:
  - name: app
    image: %s
    env: [{name: NOTE, value: "%s"}]
    command: ["sh", "-c", "echo $(( $(cat /data/count 2>/dev/null || echo 0) + 1 )) > /data/count; echo x > /scratch/x; exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}, {name: scratch, mountPath: /scratch}]
`, name, BusyboxImage, note)
	}
	claimDir := filepath.Join(d.RootDir, "volumes", "default", "data")
	count := func() string {
		b, _ := os.ReadFile(filepath.Join(claimDir, "count"))
		return strings.TrimSpace(string(b))
	}
	waitCount := func(want string) {
		d.eventually(30*time.Second, "count is "+want, func() error {
			if c := count(); c != want {
				return fmt.Errorf("count %q", c)
			}
			return nil
		})
	}
	d.writeManifest("writer.yaml", counter("writer", "1"))
	p := d.waitPod("writer", 60*time.Second, "runs", allRunning)
	waitCount("1")
	if fi, err := os.Stat(claimDir); err != nil || fi.Mode()&os.ModeSetgid == 0 {
		t.Errorf("claim directory: %v %v (fsGroup must set setgid)", fi, err)
	}
	scratch := filepath.Join(d.RootDir, "pods", string(p.UID), "volumes", "scratch")
	if _, err := os.Stat(filepath.Join(scratch, "x")); err != nil {
		t.Errorf("ephemeral volume: %v", err)
	}

	// An edit of the spec makes a new pod (new UID): same data.
	d.writeManifest("writer.yaml", counter("writer", "2"))
	d.waitPod("writer", 60*time.Second, "is replaced", func(q *v1.Pod) error {
		if q.UID == p.UID {
			return fmt.Errorf("same UID")
		}
		return allRunning(q)
	})
	waitCount("2")
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("the old pod's ephemeral volume is still there: %v", err)
	}

	// Removed and added again.
	d.removeManifest("writer.yaml")
	d.waitGone("writer", 60*time.Second)
	if count() != "2" {
		t.Fatalf("the claim's data went with the pod: count %q", count())
	}
	d.writeManifest("writer.yaml", counter("writer", "2"))
	d.waitPod("writer", 60*time.Second, "runs again", allRunning)
	waitCount("3")

	// A daemon restart adopts the pod: not restarted, data kept.
	d.signal(syscall.SIGTERM)
	d.start()
	p = d.waitPod("writer", 60*time.Second, "is adopted", allRunning)
	if restartsOf(p, "app") != 0 || count() != "3" {
		t.Errorf("after a daemon restart: restarts %d, count %q", restartsOf(p, "app"), count())
	}

	// In use: volumes rm refuses; ReadWriteOncePod keeps a second pod out.
	if out, err := d.cliErr("volumes", "rm", "data"); err == nil || !strings.Contains(out, "in use by pod writer") {
		t.Errorf("volumes rm of a claim in use: %v\n%s", err, out)
	}
	d.writeManifest("second.yaml", counter("second", "x"))
	d.waitPod("second", 30*time.Second, "is held back by ReadWriteOncePod", func(q *v1.Pod) error {
		if q.Status.Phase != v1.PodPending {
			return fmt.Errorf("phase %s", q.Status.Phase)
		}
		for _, c := range q.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && strings.Contains(c.Message, "ReadWriteOncePod") {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", q.Status.Conditions)
	})
	if out := d.cli("volumes", "ls"); !strings.Contains(out, "data") || !strings.Contains(out, "writer") || !strings.Contains(out, "not enforced") {
		t.Errorf("volumes ls:\n%s", out)
	}
	d.removeManifest("writer.yaml")
	d.waitPod("second", 60*time.Second, "runs once the first pod is gone", allRunning)
	waitCount("4")
	if out := d.cli("get", "pvc"); !strings.Contains(out, "Bound") || !strings.Contains(out, "local-default-data") || !strings.Contains(out, "1Gi") {
		t.Errorf("get pvc:\n%s", out)
	}

	// Unused: volumes rm removes the data, the claim document stays.
	d.removeManifest("second.yaml")
	d.waitGone("second", 60*time.Second)
	if out, err := d.cliErr("volumes", "rm", "data"); err != nil {
		t.Fatalf("volumes rm: %v\n%s", err, out)
	}
	if _, err := os.Stat(claimDir); !os.IsNotExist(err) {
		t.Errorf("claim directory after volumes rm: %v", err)
	}
	// Without its directory the claim waits for its first pod again.
	if out := d.cli("get", "pvc"); !strings.Contains(out, "data") || !strings.Contains(out, "Pending") {
		t.Errorf("get pvc after volumes rm:\n%s", out)
	}
}

// TestLabelEditUpdatesDownwardAPI: an edit of a pod's labels or
// annotations alone updates the pod in place: same UID, no restart, its
// downwardAPI files show the new values; a spec edit still replaces it.
func TestLabelEditUpdatesDownwardAPI(t *testing.T) {
	d := startDaemon(t)
	pod := func(tier, note, cmd string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: meta, labels: {tier: %s}, annotations: {note: %s}}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: note, fieldRef: {fieldPath: "metadata.annotations['note']"}}
  containers:
  - name: app
    image: %s
    command: [%s]
    volumeMounts: [{name: info, mountPath: /info}]
`, tier, note, BusyboxImage, cmd)
	}
	d.writeManifest("meta.yaml", pod("a", "first", "sleep, '3600'"))
	p := d.waitPod("meta", 60*time.Second, "runs", allRunning)
	_, pids := d.pids(p)
	root := fmt.Sprintf("/proc/%d/root/info/", pids["app"])
	d.writeManifest("meta.yaml", pod("b", "second", "sleep, '3600'"))
	d.eventually(20*time.Second, "the downwardAPI files show the new labels", func() error {
		l, _ := os.ReadFile(root + "labels")
		n, _ := os.ReadFile(root + "note")
		if string(l) != `tier="b"` || string(n) != "second" {
			return fmt.Errorf("labels %q note %q", l, n)
		}
		return nil
	})
	q, err := d.pod("default", "meta")
	if err != nil {
		t.Fatal(err)
	}
	if q.UID != p.UID || restartsOf(q, "app") != 0 || q.Labels["tier"] != "b" {
		t.Errorf("after a label edit: uid %s (was %s), restarts %d, labels %v", q.UID, p.UID, restartsOf(q, "app"), q.Labels)
	}
	// A restarted daemon keeps the pod as it is.
	d.signal(syscall.SIGTERM)
	d.start()
	q = d.waitPod("meta", 30*time.Second, "is adopted", allRunning)
	if q.UID != p.UID || restartsOf(q, "app") != 0 || q.Labels["tier"] != "b" {
		t.Errorf("after a daemon restart: uid %s (was %s), restarts %d, labels %v", q.UID, p.UID, restartsOf(q, "app"), q.Labels)
	}
	// A spec edit replaces the pod.
	d.writeManifest("meta.yaml", pod("b", "second", "sleep, '3601'"))
	d.waitPod("meta", 60*time.Second, "is replaced", func(r *v1.Pod) error {
		if r.UID == p.UID {
			return fmt.Errorf("same UID")
		}
		return allRunning(r)
	})
}
