package statssummary

import (
	"path/filepath"
	"testing"
)

func TestStatfs(t *testing.T) {
	fs, err := Statfs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fs.CapacityBytes == 0 || fs.AvailableBytes > fs.CapacityBytes || fs.UsedBytes > fs.CapacityBytes || fs.InodesFree > fs.Inodes {
		t.Errorf("implausible %+v", fs)
	}
	if _, err := Statfs(filepath.Join(t.TempDir(), "gone")); err == nil {
		t.Error("statfs of a missing path")
	}
}
