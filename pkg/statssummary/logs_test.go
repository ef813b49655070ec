package statssummary

import (
	"path/filepath"
	"testing"
)

func TestDirUsage(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app/0.log":     "0123456789",
		"app/1.log":     "0123456789012345678901234",
		"app/old/2.log": "abc",
		"sidecar/0.log": "x",
	})
	for _, tc := range []struct {
		dir           string
		bytes, inodes uint64
	}{
		{filepath.Join(dir, "app"), 38, 5}, // app, old and 3 files
		{filepath.Join(dir, "sidecar"), 1, 2},
		{filepath.Join(dir, "gone"), 0, 0},
	} {
		b, n, err := dirUsage(tc.dir)
		if err != nil || b != tc.bytes || n != tc.inodes {
			t.Errorf("%s: %d bytes %d inodes %v, want %d %d", tc.dir, b, n, err, tc.bytes, tc.inodes)
		}
	}
}
