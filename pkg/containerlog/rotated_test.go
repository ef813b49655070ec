package containerlog

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	names := []string{"3.log", "3.log.20260102-030405.000001", "3.log.20260102-030405", "3.log.gz", "4.log", "4.log.20260102-030405.000001", "3.log.20261399-000000"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := Remove(filepath.Join(dir, "3.log")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	// Kept: another attempt's files, and names that are not rotated
	// files of 3.log (a compressed one, an impossible date).
	want := []string{"3.log.20261399-000000", "3.log.gz", "4.log", "4.log.20260102-030405.000001"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
	if err := Remove(filepath.Join(dir, "3.log")); err != nil {
		t.Fatalf("removing again: %v", err)
	}
	if err := Remove(filepath.Join(dir, "missing", "0.log")); err != nil {
		t.Fatalf("a log in a missing directory: %v", err)
	}
}
