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
