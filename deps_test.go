package minilet_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries keeps containerd out of the pod logic: only
// pkg/runtime/containerd (and the wiring in cmd/minilet) may import it.
func TestImportBoundaries(t *testing.T) {
	for _, pkg := range []string{"./pkg/pod", "./pkg/probe", "./pkg/podsandbox", "./pkg/restart", "./pkg/manifest", "./pkg/runtime"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "no Go files") || strings.Contains(string(out), "cannot find") || strings.Contains(string(out), "directory not found") {
				continue
			}
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/containerd/containerd") {
				t.Errorf("%s imports %s; only pkg/runtime/containerd may", pkg, dep)
			}
		}
	}
}

// TestPodLogicDependsOnInterfaces keeps pkg/pod on its own interfaces:
// the network, the host side and CNI are reached through pod.Network and
// pod.Host, wired in cmd/minilet.
func TestPodLogicDependsOnInterfaces(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./pkg/pod").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/minilet/minilet/pkg/network",
			"github.com/minilet/minilet/pkg/podhost",
			"github.com/containernetworking/",
			"github.com/containerd/go-cni",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("pkg/pod imports %s; it must reach it through an interface", dep)
			}
		}
	}
}
