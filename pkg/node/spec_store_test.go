package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpecStorePersists(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "node.json")
	before := time.Now().Add(-time.Second)
	s, err := OpenSpecStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cordoned() {
		t.Fatal("a new node is cordoned")
	}
	created := s.Created()
	if created.Before(before) || created.After(time.Now()) {
		t.Fatalf("created %v", created)
	}
	// The file exists from the start, so that the creation time stays.
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state file after open: %v", err)
	}

	if err := s.Set(true); err != nil {
		t.Fatal(err)
	}
	if !s.Cordoned() {
		t.Fatal("Set(true) did not cordon")
	}
	// A new daemon finds the node cordoned, with its creation time.
	s2, err := OpenSpecStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Cordoned() || !s2.Created().Equal(created) {
		t.Fatalf("reopened: cordoned %v created %v, want true %v", s2.Cordoned(), s2.Created(), created)
	}
	if err := s2.Set(false); err != nil {
		t.Fatal(err)
	}
	s3, err := OpenSpecStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if s3.Cordoned() {
		t.Fatal("uncordon did not persist")
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil || st["cordoned"] != false || st["created"] == nil || st["changed"] == nil {
		t.Fatalf("file %s: %v", data, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode().Perm())
	}
	assertNoTemps(t, filepath.Dir(path))
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestSpecStoreFailedWriteKeepsState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.json")
	s, err := OpenSpecStore(path)
	if err != nil {
		t.Fatal(err)
	}
	// Put a non-empty directory where the file is: the rename fails, and
	// must leave neither a changed state nor a temporary file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(true); err == nil {
		t.Fatal("Set over a directory succeeded")
	}
	if s.Cordoned() {
		t.Error("a failed Set changed the state")
	}
	assertNoTemps(t, dir)
}

func TestSpecStoreBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.json")
	if err := os.WriteFile(path, []byte(`{"cordoned": tr`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSpecStore(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("torn file: %v", err)
	}
}

func TestSpecStoreConcurrent(t *testing.T) {
	s, err := OpenSpecStore(filepath.Join(t.TempDir(), "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := range 8 {
		go func() { done <- s.Set(i%2 == 0) }()
		go func() { _ = s.Cordoned(); done <- nil }()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
