package ociarchive_test

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/minilet/minilet/pkg/ociarchive"
)

func TestBusyboxFiles(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(bin, []byte("fake busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := ociarchive.BusyboxFiles(bin, []string{"sh", "sleep", "sh", "busybox", "/usr/bin/env"})
	if err != nil {
		t.Fatalf("BusyboxFiles: %v", err)
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, "localhost/minilet/busybox:test", files, ociarchive.Config{Cmd: []string{"sh"}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	layer := readImage(t, buf.Bytes()).layer
	if e := layer["bin/busybox"]; e.hdr == nil || string(e.data) != "fake busybox" || e.hdr.Mode != 0o755 {
		t.Fatalf("bin/busybox entry wrong: %+v", e.hdr)
	}
	for _, link := range []string{"bin/sh", "bin/sleep", "usr/bin/env"} {
		e, ok := layer[link]
		if !ok || e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "/bin/busybox" {
			t.Errorf("%s: want a symlink to /bin/busybox, got %+v", link, e.hdr)
		}
	}
	if e := layer["tmp/"]; e.hdr == nil || e.hdr.Mode != 0o1777 {
		t.Errorf("tmp/ entry wrong: %+v", e.hdr)
	}
	if _, ok := layer["etc/passwd"]; !ok {
		t.Errorf("no etc/passwd")
	}

	if _, err := ociarchive.BusyboxFiles(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Errorf("BusyboxFiles of a missing binary succeeded")
	}
	if _, err := ociarchive.BusyboxFiles(bin, []string{""}); err == nil {
		t.Errorf("BusyboxFiles with an empty applet succeeded")
	}
}

// TestBusyboxDefaultAppletsExist checks the default applets against the
// installed busybox, so the default image never links a missing applet.
func TestBusyboxDefaultAppletsExist(t *testing.T) {
	bin, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	out, err := exec.Command(bin, "--list").Output()
	if err != nil {
		t.Skipf("busybox --list: %v", err)
	}
	have := map[string]bool{}
	for _, a := range bytes.Fields(out) {
		have[string(a)] = true
	}
	files, err := ociarchive.BusyboxFiles(bin, nil)
	if err != nil {
		t.Fatalf("BusyboxFiles: %v", err)
	}
	for _, f := range files {
		if f.Link == "" {
			continue
		}
		if name := filepath.Base(f.Path); !have[name] {
			t.Errorf("default applet %q is not in %s --list", name, bin)
		}
	}
}
