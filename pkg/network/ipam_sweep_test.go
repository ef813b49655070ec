package network

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSweepEmptyAllocations(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"10.85.0.2":          "0123abcd\neth0",
		"10.85.0.3":          "", // a killed ADD's
		"lock":               "",
		"last_reserved_ip.0": "10.85.0.3",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	freed, err := sweepEmptyAllocations(dir)
	if err != nil || !slices.Equal(freed, []string{"10.85.0.3"}) {
		t.Fatalf("freed %v, %v", freed, err)
	}
	for n := range files {
		_, err := os.Stat(filepath.Join(dir, n))
		if gone := os.IsNotExist(err); gone != (n == "10.85.0.3") {
			t.Errorf("%s: gone %v", n, gone)
		}
	}
	if freed, err := sweepEmptyAllocations(filepath.Join(dir, "missing")); err != nil || freed != nil {
		t.Errorf("missing dir: %v %v", freed, err)
	}
}
