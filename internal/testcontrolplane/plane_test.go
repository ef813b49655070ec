package testcontrolplane

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStart starts the plane and asks it as the admin and as a node
// what a node may do. It runs where the binaries are built
// (MINILET_KUBE_BIN, default the build script's cache) and etcd is
// installed.
func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	bin := os.Getenv("MINILET_KUBE_BIN")
	if bin == "" {
		bin = "/var/cache/minilet/kubernetes-v1.34.1/bin"
	}
	if _, err := os.Stat(bin + "/kube-apiserver"); err != nil {
		t.Skip("control plane not built: ", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	p, err := Start(ctx, Config{Dir: t.TempDir(), BinDir: bin, Nodes: []string{"n1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	t.Logf("plane up in %s", time.Since(start).Round(time.Millisecond))
	out, err := p.Kubectl(ctx, "get", "serviceaccount", "default", "-o", "name")
	if err != nil || strings.TrimSpace(out) != "serviceaccount/default" {
		t.Fatalf("admin: %q %v", out, err)
	}
	kc, err := p.NodeKubeconfig("n1")
	if err != nil {
		t.Fatal(err)
	}
	out, err = p.Kubectl(ctx, "--kubeconfig="+kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if err != nil || out != "system:node:n1" {
		t.Fatalf("node whoami: %q %v", out, err)
	}
	// The Node authorizer: a node may not read secrets it has no pod for.
	if out, err := p.Kubectl(ctx, "--kubeconfig="+kc, "get", "secrets", "-n", "default"); err == nil {
		t.Fatalf("node listed secrets: %s", out)
	}
}
