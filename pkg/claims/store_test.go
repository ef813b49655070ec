package claims

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStore(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "volumes")}
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty store: %v %v", l, err)
	}
	for _, d := range []string{s.Dir("default", "data"), s.Dir("shop", "db")} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir("shop", "db"), "f"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := s.List()
	if err != nil || len(l) != 2 || l[0].Name != "data" || l[1].Namespace != "shop" || !l[1].Made {
		t.Fatalf("list: %+v %v", l, err)
	}
	if l[1].Bytes < 64<<10 {
		t.Errorf("bytes of shop/db = %d, want at least 64 KiB", l[1].Bytes)
	}
	if err := s.Remove("shop", "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "shop")); !os.IsNotExist(err) {
		t.Error("empty namespace directory left")
	}
	if err := s.Remove("shop", "db"); err == nil || !strings.Contains(err.Error(), "no data on this host") {
		t.Errorf("second remove: %v", err)
	}
	if err := s.Remove("default", "../default"); err == nil {
		t.Error("removed a path outside the store")
	}
}
