package integration

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/minilet/minilet/internal/cbuild"
	"github.com/minilet/minilet/internal/testcontrolplane"
	"github.com/minilet/minilet/pkg/ociarchive"
)

// env is shared by every test of the package: one containerd, one build of
// minilet, the test image archives.
var env struct {
	skip       string // why the tests cannot run here
	dir        string
	containerd *containerdProc
	minilet    string // path of the binary
	pause      string
	busyboxTar string
	agnhostTar string
}

// BusyboxImage is the test image, imported into each daemon's namespace.
const BusyboxImage = "localhost/minilet-test/busybox:1"

// AgnhostImage is busybox plus /agnhost (test/images/agnhost), its
// entrypoint; tests that need it import it (importAgnhost).
const AgnhostImage = "localhost/minilet-test/agnhost:1"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "integration setup failed:", err)
		teardown()
		return 1
	}
	code := m.Run()
	teardown()
	return code
}

func setup() error {
	if os.Geteuid() != 0 {
		env.skip = "integration tests need root (they run containerd, runc and CNI)"
		return nil
	}
	for _, tool := range []string{"containerd", "runc", "ctr", "gcc", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			env.skip = fmt.Sprintf("%s is not installed; run `make deps`", tool)
			return nil
		}
	}
	for _, f := range []string{"/bin/busybox", "/usr/lib/cni/bridge"} {
		if _, err := os.Stat(f); err != nil {
			env.skip = fmt.Sprintf("%s is missing; run `make deps`", f)
			return nil
		}
	}
	if testing.Short() {
		env.skip = "integration tests do not run with -short"
		return nil
	}
	dir, err := os.MkdirTemp("", "minilet-it-")
	if err != nil {
		return err
	}
	env.dir = dir
	root := repoRoot()
	env.minilet = filepath.Join(dir, "bin", "minilet")
	env.pause = filepath.Join(dir, "bin", "pause")
	build := exec.Command("go", "build", "-o", env.minilet, "./cmd/minilet")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build minilet: %v\n%s", err, out)
	}
	if err := cbuild.Static(filepath.Join(root, "logdriver", "logdriver.c"), filepath.Join(dir, "bin", "minilet-log-driver")); err != nil {
		return err
	}
	if err := cbuild.Static(filepath.Join(root, "pause", "pause.c"), env.pause); err != nil {
		return err
	}
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, BusyboxImage, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}); err != nil {
		return err
	}
	env.busyboxTar = filepath.Join(dir, "busybox.tar")
	if err := os.WriteFile(env.busyboxTar, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if env.agnhostTar, err = buildAgnhostImage(root, dir, files); err != nil {
		return err
	}
	env.containerd, err = startContainerd(filepath.Join(dir, "containerd"))
	return err
}

// buildAgnhostImage builds test/images/agnhost statically and writes an
// image archive of it beside the busybox files.
func buildAgnhostImage(root, dir string, busybox []ociarchive.File) (string, error) {
	bin := filepath.Join(dir, "bin", "agnhost")
	build := exec.Command("go", "build", "-o", bin, "./test/images/agnhost")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build agnhost: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	// As the e2e suite's agnhost image: curl for exec hooks, a serving
	// certificate for netexec over TLS.
	crt, key, err := testcontrolplane.SelfSignedPEM("localhost", "127.0.0.1")
	if err != nil {
		return "", err
	}
	files := append(append([]ociarchive.File{}, busybox...),
		ociarchive.File{Path: "/agnhost", Mode: 0o755, Data: data},
		ociarchive.File{Path: "/bin/curl", Link: "/agnhost"},
		ociarchive.File{Path: "/localhost.crt", Data: crt},
		ociarchive.File{Path: "/localhost.key", Data: key})
	var buf bytes.Buffer
	cfg := ociarchive.Config{Entrypoint: []string{"/agnhost"}, Cmd: []string{"liveness"}, Env: []string{"PATH=/bin"}}
	if err := ociarchive.Write(&buf, AgnhostImage, files, cfg); err != nil {
		return "", err
	}
	tar := filepath.Join(dir, "agnhost.tar")
	return tar, os.WriteFile(tar, buf.Bytes(), 0o644)
}

func teardown() {
	stopPlane()
	if env.containerd != nil {
		env.containerd.stop()
	}
	if env.dir != "" && os.Getenv("MINILET_TEST_KEEP") == "" {
		_ = os.RemoveAll(env.dir)
	}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// needEnv skips a test when the machine cannot run integration tests.
func needEnv(t *testing.T) {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
}
