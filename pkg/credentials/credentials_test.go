package credentials

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMatchImage(t *testing.T) {
	for _, tc := range []struct {
		glob, image string
		want        bool
	}{
		{"*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.us-east-1.amazonaws.com/app", true},
		{"*.dkr.ecr.*.amazonaws.com", "dkr.ecr.us-east-1.amazonaws.com/app", false},
		{"registry.io/team", "registry.io/team/app", true},
		{"registry.io/team", "registry.io/other/app", false},
		{"127.0.0.1:5000", "127.0.0.1:5000/app", true},
		{"127.0.0.1:5000", "127.0.0.1:5001/app", false},
		{"*.io", "registry.io/app", true},
		{"*.io", "a.registry.io/app", false},
	} {
		if got := matchImage(tc.glob, tc.image); got != tc.want {
			t.Errorf("matchImage(%q, %q) = %v", tc.glob, tc.image, got)
		}
	}
}

// writePlugin writes an executable plugin into dir that answers with the
// given JSON (after checking its request), counting its runs in
// dir/<name>.runs.
func writePlugin(t *testing.T, dir, name, response string) {
	t.Helper()
	script := fmt.Sprintf(`#!/bin/sh
read -r req
case "$req" in *'"kind":"CredentialProviderRequest"'*'"apiVersion":"credentialprovider.kubelet.k8s.io/v1"'*|*'"apiVersion":"credentialprovider.kubelet.k8s.io/v1"'*'"kind":"CredentialProviderRequest"'*) ;; *) echo "bad request $req" >&2; exit 3;; esac
echo "$req $1 $PLUGIN_ENV" >> %[1]s/%[2]s.runs
cat <<'JSON'
%[3]s
JSON
`, dir, name, response)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func runs(t *testing.T, dir, name string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, name+".runs"))
	return strings.Fields(strings.TrimSpace(string(b)))
}

func TestPlugins(t *testing.T) {
	dir := t.TempDir()
	writePlugin(t, dir, "ecr", `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"1h","auth":{"*.dkr.ecr.*.amazonaws.com":{"username":"AWS","password":"token-1"}}}`)
	writePlugin(t, dir, "other", `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"0s","auth":{"registry.io":{"username":"u","password":"p"}}}`)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: ecr
  matchImages: ["*.dkr.ecr.*.amazonaws.com"]
  defaultCacheDuration: 12h
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  args: [get-credentials]
  env: [{name: PLUGIN_ENV, value: from-config}]
- name: other
  matchImages: ["registry.io"]
  defaultCacheDuration: 1m
  apiVersion: credentialprovider.kubelet.k8s.io/v1
`), 0o644)
	p, err := LoadPlugins(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	ctx := context.Background()
	for i, img := range []string{"123.dkr.ecr.us-east-1.amazonaws.com/app:1", "123.dkr.ecr.us-east-1.amazonaws.com/db:2"} {
		u, s, found, err := p.Lookup(ctx, img)
		if err != nil || !found || u != "AWS" || s != "token-1" {
			t.Fatalf("lookup %d: %q %q %v %v", i, u, s, found, err)
		}
	}
	r := runs(t, dir, "ecr")
	if len(r) != 3 || !strings.Contains(r[0], `"image":"123.dkr.ecr.us-east-1.amazonaws.com/app:1"`) || r[1] != "get-credentials" || r[2] != "from-config" {
		t.Fatalf("runs %q: want one run (Registry cache), with the image, args and env", r)
	}
	now = now.Add(61 * time.Minute) // past the response's 1h
	p.Lookup(ctx, "123.dkr.ecr.us-east-1.amazonaws.com/app:1")
	if n := len(runs(t, dir, "ecr")) / 3; n != 2 {
		t.Fatalf("%d runs after the cache expired, want 2", n)
	}
	// cacheDuration 0: asked every time; an image no plugin matches: none.
	p.Lookup(ctx, "registry.io/x:1")
	p.Lookup(ctx, "registry.io/x:1")
	if n := len(runs(t, dir, "other")); n != 2 {
		t.Fatalf("%d runs of a plugin that says not to cache, want 2", n)
	}
	if _, _, found, err := p.Lookup(ctx, "docker.io/library/busybox:1"); found || err != nil {
		t.Fatalf("an image no plugin matches: %v %v", found, err)
	}
}

func TestLoadPluginsRefuses(t *testing.T) {
	dir := t.TempDir()
	writePlugin(t, dir, "ok", "{}")
	for _, tc := range []struct{ config, want string }{
		{"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: missing\n  matchImages: [a.io]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
			"is not an executable file"},
		{"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: ok\n  matchImage: [a.io]\n",
			`unknown field "matchImage"`},
		{"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: ok\n  matchImages: [a.io]\n  apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n",
			"defaultCacheDuration: Required value"},
		{"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: ok\n  matchImages: [a.io]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n",
			`apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v1alpha1"`},
		{"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: CredentialProviderConfig\n", "want kubelet.config.k8s.io/v1 CredentialProviderConfig"},
	} {
		cfg := filepath.Join(dir, "c.yaml")
		os.WriteFile(cfg, []byte(tc.config), 0o644)
		if _, err := LoadPlugins(cfg, dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config:\n%s\nerr %v, want %q", tc.config, err, tc.want)
		}
	}
}

// TestDockerConfig: credHelpers for their registry, credsStore for the
// others, auths last; a helper's "not found" is anonymous, "<token>" an
// identity token; a real docker-credential-<name> on PATH is run.
func TestDockerConfig(t *testing.T) {
	dir := t.TempDir()
	helper := `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
case "$server" in
  reg.example:5000) echo '{"ServerURL":"reg.example:5000","Username":"robot","Secret":"s3cret"}';;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"refresh"}';;
  *) echo "credentials not found in native keychain"; exit 1;;
esac
`
	os.WriteFile(filepath.Join(dir, "docker-credential-test"), []byte(helper), 0o755)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	cfg := filepath.Join(dir, "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte("alice:pw"))
	os.WriteFile(cfg, []byte(`{"credHelpers":{"reg.example:5000":"test"},"auths":{"plain.example":{"auth":"`+auth+`"},"reg.example:5000":{"auth":"`+auth+`"}}}`), 0o600)
	k := &Keychain{DockerConfig: cfg}
	ctx := context.Background()
	for _, tc := range []struct{ host, user, secret string }{
		{"reg.example:5000", "robot", "s3cret"}, // the helper wins over auths
		{"plain.example", "alice", "pw"},
		{"elsewhere.example", "", ""},
	} {
		u, s, err := k.Lookup(ctx, tc.host+"/app:1", tc.host)
		if err != nil || u != tc.user || s != tc.secret {
			t.Errorf("%s: %q %q %v, want %q %q", tc.host, u, s, err, tc.user, tc.secret)
		}
	}
	os.WriteFile(cfg, []byte(`{"credsStore":"test"}`), 0o600)
	if u, s, err := k.Lookup(ctx, "docker.io/library/busybox:1", "registry-1.docker.io"); err != nil || u != "" || s != "refresh" {
		t.Errorf("credsStore for Docker Hub: %q %q %v, want an identity token", u, s, err)
	}
	if u, s, err := k.Lookup(ctx, "other.example/app:1", "other.example"); err != nil || u != "" || s != "" {
		t.Errorf("credsStore without an entry: %q %q %v, want anonymous", u, s, err)
	}
	os.WriteFile(cfg, []byte(`{"credsStore":"absent"}`), 0o600)
	if _, _, err := k.Lookup(ctx, "other.example/app:1", "other.example"); err == nil || !strings.Contains(err.Error(), "docker-credential-absent") {
		t.Errorf("a missing helper: %v, want an error naming it", err)
	}
}
