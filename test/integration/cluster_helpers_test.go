package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minilet/minilet/internal/testcontrolplane"
	"github.com/minilet/minilet/internal/testdaemon"
)

// The control plane of the cluster-mode tests: one for the package,
// started by the first test that needs it, stopped by teardown. Each test
// takes node names of its own (takeNodeName), so that no test meets
// another's Node.
var plane struct {
	once sync.Once
	p    *testcontrolplane.Plane
	err  error

	mu    sync.Mutex
	taken int
}

// planeNodes are the node names the plane has tokens for.
var planeNodes = func() []string {
	var out []string
	for i := 1; i <= 16; i++ {
		out = append(out, fmt.Sprintf("mnode-%d", i))
	}
	return out
}()

// kubeBinDir is where hack/controlplane/build.sh put the Kubernetes
// commands (make test runs it and sets MINILET_KUBE_BIN).
func kubeBinDir() string {
	if d := os.Getenv("MINILET_KUBE_BIN"); d != "" {
		return d
	}
	return "/var/cache/minilet/kubernetes-v1.34.1/bin"
}

// nodeMonitorGracePeriod is the plane's node lifecycle controller's: a
// node whose lease is this old is NotReady. Short, for the tests.
const nodeMonitorGracePeriod = 12 * time.Second

// needPlane returns the running control plane, starting it on first use.
// A plane that cannot start fails the test: cluster mode must be tested
// (make test builds the commands first).
func needPlane(t *testing.T) *testcontrolplane.Plane {
	t.Helper()
	needEnv(t)
	plane.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		start := time.Now()
		plane.p, plane.err = testcontrolplane.Start(ctx, testcontrolplane.Config{
			Dir: filepath.Join(env.dir, "plane"), BinDir: kubeBinDir(), Nodes: planeNodes,
			NodeMonitorGracePeriod: nodeMonitorGracePeriod,
		})
		if plane.err == nil {
			fmt.Fprintf(os.Stderr, "control plane up in %s\n", time.Since(start).Round(time.Millisecond))
		}
	})
	if plane.err != nil {
		t.Fatalf("control plane: %v (build it with hack/controlplane/build.sh)", plane.err)
	}
	return plane.p
}

func stopPlane() {
	if plane.p != nil {
		plane.p.Stop()
	}
}

// takeNodeName returns a node name no other test used.
func takeNodeName(t *testing.T) string {
	t.Helper()
	plane.mu.Lock()
	defer plane.mu.Unlock()
	if plane.taken >= len(planeNodes) {
		t.Fatal("no node names left: add some to planeNodes")
	}
	plane.taken++
	return planeNodes[plane.taken-1]
}

// startClusterDaemon starts a daemon that joins the plane as node name,
// with a short lease (8 s, renewed every 2 s) and status updates every
// 2 s, a serving certificate from the plane's CA (unless args ask for
// --rotate-server-certificates), and args after those. Once the daemon is stopped, the Node is
// deleted, so that the scheduler binds no later test's pods to it.
func startClusterDaemon(t *testing.T, p *testcontrolplane.Plane, name string, args ...string) *daemon {
	t.Helper()
	kc, err := p.NodeKubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if out, err := p.Kubectl(ctx, "delete", "node", name, "--ignore-not-found"); err != nil {
			t.Logf("delete node %s: %v %s", name, err, out)
		}
	})
	var certArgs []string
	if !slices.Contains(args, "--rotate-server-certificates") {
		cert, key, err := p.NodeServingCert(name)
		if err != nil {
			t.Fatal(err)
		}
		certArgs = []string{"--tls-cert-file", cert, "--tls-private-key-file", key}
	}
	addr, err := testdaemon.FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	return startDaemonWith(t, func(c *testdaemon.Config) {
		c.NodeName = name
		c.Args = append(c.Args, "--kubeconfig", kc, "--node-lease-duration-seconds", "8", "--node-status-update-frequency", "2s",
			"--port", port, "--client-ca-file", p.CAFile())
		c.Args = append(c.Args, certArgs...)
		c.Args = append(c.Args, args...)
	})
}

// kubectlJSON runs kubectl as the admin with -o json and decodes into v.
func kubectlJSON(t *testing.T, p *testcontrolplane.Plane, v any, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := p.Kubectl(ctx, append(args, "-o", "json")...)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(out), v)
}

// kubectl runs kubectl as the admin and fails the test on an error.
func kubectl(t *testing.T, p *testcontrolplane.Plane, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := p.Kubectl(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitAPIObject polls `kubectl <args> -o json` as the admin until cond
// holds for the object, and returns it; what names the wait.
func waitAPIObject[T any](t *testing.T, p *testcontrolplane.Plane, what string, timeout time.Duration, cond func(*T) error, args ...string) *T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		var obj T
		if last = kubectlJSON(t, p, &obj, args...); last == nil {
			if last = cond(&obj); last == nil {
				return &obj
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not after %s: %v", what, timeout, last)
	return nil
}
