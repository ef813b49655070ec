// Package cbuild builds minilet's two C programs (pause and the log
// driver) the way the Makefile does: static, size-optimised, stripped.
// Tests, the integration suite and the bench use it, so that they run
// what `make build` makes.
package cbuild

import (
	"fmt"
	"os/exec"
	"testing"
)

// Static compiles src into out with gcc -Os -static and strips it. Extra
// gcc flags (warnings) come before the sources.
func Static(src, out string, extra ...string) error {
	args := append(append([]string{"-Os", "-static"}, extra...), "-o", out, src)
	if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("gcc %s: %v\n%s", src, err, msg)
	}
	if msg, err := exec.Command("strip", out).CombinedOutput(); err != nil {
		return fmt.Errorf("strip %s: %v\n%s", out, err, msg)
	}
	return nil
}

// ForTest builds src into a temporary directory as a program named name,
// with every warning an error, and returns its path. It skips the test
// when gcc is missing.
func ForTest(t testing.TB, src, name string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skipf("gcc not found; cannot build %s", src)
	}
	bin := t.TempDir() + "/" + name
	if err := Static(src, bin, "-Wall", "-Wextra", "-Werror"); err != nil {
		t.Fatal(err)
	}
	return bin
}
