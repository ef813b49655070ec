package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	v1 "k8s.io/api/core/v1"
)

// registry is a distribution registry with basic auth on loopback, run by
// the test (Debian's docker-registry).
type registry struct {
	host     string // 127.0.0.1:port
	user     string
	password string
}

func startRegistry(t *testing.T) *registry {
	t.Helper()
	needEnv(t)
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed; run `make deps`")
	}
	dir := t.TempDir()
	r := &registry{user: "puller", password: "s3cret-" + fmt.Sprint(os.Getpid())}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(r.user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.host = ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf(`version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: %[1]s/data}
http: {addr: %[2]s}
auth:
  htpasswd: {realm: minilet-test, path: %[1]s/htpasswd}
`, dir, r.host)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + r.host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not answer 401 on /v2/: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// push copies the test image into the registry as ref (ctr, in a
// namespace of its own).
func (r *registry) push(t *testing.T, ref string) {
	t.Helper()
	ns := fmt.Sprintf("minilet-it-push-%d", os.Getpid())
	ctr := func(args ...string) {
		t.Helper()
		cmd := exec.Command("ctr", append([]string{"-a", env.containerd.address, "-n", ns}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ctr("images", "import", env.busyboxTar)
	ctr("images", "tag", "--force", BusyboxImage, ref)
	ctr("images", "push", "--plain-http", "--user", r.user+":"+r.password, ref)
	t.Cleanup(func() {
		_ = exec.Command("ctr", "-a", env.containerd.address, "-n", ns, "images", "rm", BusyboxImage, ref).Run()
	})
}

// TestRegistryCredentials: pulls from a registry with basic auth fail
// without credentials (ErrImagePull, then ImagePullBackOff), and succeed
// with them from a kubelet credential provider plugin (built by the test,
// its config as the kubelet's) and from a docker credHelper; the password
// is in no log line.
func TestRegistryCredentials(t *testing.T) {
	reg := startRegistry(t)
	teamImage := reg.host + "/team/app:1"
	helperImage := reg.host + "/helper/app:1"
	reg.push(t, teamImage)
	reg.push(t, helperImage)

	d := startDaemon(t)
	pod := func(name, image string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: app, image: %q, imagePullPolicy: Always, command: ["sleep", "3600"]}]
`, name, image)
	}
	d.writeManifest("team.yaml", pod("team", teamImage))
	d.waitPod("team", 30*time.Second, "cannot pull anonymously", func(p *v1.Pod) error {
		w := p.Status.ContainerStatuses[0].State.Waiting
		if w == nil || (w.Reason != "ErrImagePull" && w.Reason != "ImagePullBackOff") {
			return fmt.Errorf("state %+v", p.Status.ContainerStatuses[0].State)
		}
		return nil
	})

	// The plugin, built by the test, and its config as the kubelet's.
	dir := t.TempDir()
	binDir := filepath.Join(dir, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "test-provider"), "./test/credplugin")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the plugin: %v\n%s", err, out)
	}
	pluginLog := filepath.Join(dir, "plugin.log")
	cfg := filepath.Join(dir, "providers.yaml")
	writeFile(t, cfg, fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: test-provider
  matchImages: ["%s/team"]
  defaultCacheDuration: 10m
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  args: [get-credentials]
  env:
  - {name: CREDPLUGIN_USER, value: %s}
  - {name: CREDPLUGIN_PASSWORD, value: %s}
  - {name: CREDPLUGIN_LOG, value: %s}
`, reg.host, reg.user, reg.password, pluginLog))
	// The credHelper: docker-credential-minilet-test on the daemon's PATH.
	helperDir := filepath.Join(dir, "helpers")
	writeFile(t, filepath.Join(helperDir, "docker-credential-minilet-test"), fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
[ "$server" = %q ] || { echo "credentials not found in native keychain"; exit 1; }
echo '{"ServerURL":"%s","Username":"%s","Secret":"%s"}'
`, reg.host, reg.host, reg.user, reg.password))
	if err := os.Chmod(filepath.Join(helperDir, "docker-credential-minilet-test"), 0o755); err != nil {
		t.Fatal(err)
	}
	dockerCfg := filepath.Join(dir, "config.json")
	writeFile(t, dockerCfg, fmt.Sprintf(`{"credHelpers": {%q: "minilet-test"}}`, reg.host))

	d.signal(syscall.SIGTERM)
	d.Env = append(d.Env, "PATH="+helperDir+":"+os.Getenv("PATH"))
	d.Args = append(d.Args, "--image-credential-provider-config", cfg, "--image-credential-provider-bin-dir", binDir, "--image-credentials", dockerCfg)
	d.start()
	d.waitPod("team", 60*time.Second, "pulls with the plugin's credentials", allRunning)
	d.writeManifest("helper.yaml", pod("helper", helperImage))
	d.waitPod("helper", 60*time.Second, "pulls with the credHelper's credentials", allRunning)

	log, _ := os.ReadFile(pluginLog)
	if !strings.Contains(string(log), teamImage+" get-credentials") || strings.Contains(string(log), helperImage) {
		t.Fatalf("plugin log %q: want a request for %s with its args, none for %s (not matched)", log, teamImage, helperImage)
	}
	if strings.Contains(d.output.String(), reg.password) {
		t.Fatal("the registry password is in the daemon's log")
	}

	// A config naming a plugin that is not there stops the daemon at
	// start with the reason.
	d.signal(syscall.SIGTERM)
	writeFile(t, cfg, strings.Replace(mustRead(t, cfg), "name: test-provider", "name: absent-provider", 1))
	exited := d.startProcess()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon runs with a credential provider that does not exist")
	}
	if !strings.Contains(d.output.String(), "absent-provider is not an executable file") {
		t.Fatalf("no reason given:\n%s", lastLines(d.output.String(), 5))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
