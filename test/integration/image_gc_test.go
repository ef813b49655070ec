package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/ociarchive"
)

// extraImage writes an image archive named name whose config differs from
// the test image's (a distinct image ID, shared layers).
func extraImage(t *testing.T, name string) string {
	t.Helper()
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, name, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin", "IMAGE=" + name}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// images lists the image names in the daemon's namespace.
func (d *daemon) images() string {
	d.t.Helper()
	out, err := exec.Command(env.minilet, "images", "ls", "--containerd-address", d.ContainerdAddress, "--containerd-namespace", d.Namespace).CombinedOutput()
	if err != nil {
		d.t.Fatalf("images ls: %v\n%s", err, out)
	}
	return string(out)
}

// TestImageGC: `minilet images prune` and `rm` remove only images no pod
// needs; with thresholds made to trigger (in use above 1 %, free down to
// 0 %) the collector removes every unused image on its own, keeps the one
// a pod runs and the pause image, says on the node that it could not free
// enough (FreeDiskSpaceFailed), and counts what it removed.
func TestImageGC(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	d.Args = append(d.Args, "--image-gc-high-threshold", "100", "--image-gc-low-threshold", "100", "--minimum-image-ttl-duration", "0s")
	d.start()
	d.writeManifest("web.yaml", sleeperPod("web", ""))
	d.waitPod("web", 60*time.Second, "runs", allRunning)

	// prune and rm, through the daemon.
	if err := d.ImportImage(extraImage(t, "localhost/minilet-test/extra:1")); err != nil {
		t.Fatal(err)
	}
	if err := d.ImportImage(extraImage(t, "localhost/minilet-test/extra:2")); err != nil {
		t.Fatal(err)
	}
	if out := d.cli("images", "rm", "localhost/minilet-test/extra:2"); !strings.Contains(out, "Deleted: localhost/minilet-test/extra:2") {
		t.Fatalf("images rm: %q", out)
	}
	if out, err := d.cliErr("images", "rm", BusyboxImage); err == nil || !strings.Contains(out, "in use by pod(s) default/web") {
		t.Fatalf("rm an image a pod runs: %v %q", err, out)
	}
	out := d.cli("images", "prune")
	if !strings.Contains(out, "Deleted: localhost/minilet-test/extra:1") || strings.Contains(out, BusyboxImage) || strings.Contains(out, "pause") {
		t.Fatalf("prune: %q", out)
	}
	if ls := d.images(); strings.Contains(ls, "extra") || !strings.Contains(ls, BusyboxImage) || !strings.Contains(ls, "pause") {
		t.Fatalf("images after prune:\n%s", ls)
	}

	// The collector itself, with thresholds it cannot meet.
	d.signal(syscall.SIGTERM)
	for _, name := range []string{"localhost/minilet-test/extra:3", "localhost/minilet-test/extra:4"} {
		if err := d.ImportImage(extraImage(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	d.Args = append(d.Args, "--image-gc-high-threshold", "1", "--image-gc-low-threshold", "0", "--image-gc-period", "500ms")
	d.start()
	d.eventually(30*time.Second, "the collector removes the unused images", func() error {
		if ls := d.images(); strings.Contains(ls, "extra") {
			return fmt.Errorf("images:\n%s", ls)
		}
		return nil
	})
	if ls := d.images(); !strings.Contains(ls, BusyboxImage) || !strings.Contains(ls, "pause") {
		t.Fatalf("the collector removed an image in use or the pause image:\n%s", ls)
	}
	d.eventually(10*time.Second, "the node says it could not free enough", func() error {
		if out := d.cli("describe", "node"); !strings.Contains(out, "FreeDiskSpaceFailed") {
			return fmt.Errorf("describe node:\n%s", out)
		}
		return nil
	})
	if m := d.metrics(); !strings.Contains(m, "minilet_image_gc_removed_images_total 2") {
		t.Fatalf("metrics:\n%s", grepLines(m, "image_gc"))
	}
	d.waitPod("web", 10*time.Second, "still runs", allRunning)
}
