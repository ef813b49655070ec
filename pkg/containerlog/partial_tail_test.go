package containerlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A stream that ended without a newline leaves a partial record last:
// its text is in the log as read (the fallback termination message of a
// container that ran `echo -n DONE; false` is "DONE").
func TestTailEndsWithPartial(t *testing.T) {
	p := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(p, []byte("2026-12-04T09:51:26.000000000Z stdout P DONE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(p, Options{Tail: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if err := r.Copy(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if b.String() != "DONE" {
		t.Errorf("read %q", b.String())
	}
}
