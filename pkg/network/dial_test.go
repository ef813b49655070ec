package network

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDialInNetns: a listener on the loopback of another network
// namespace is reached through DialInNetns and not from the test's own
// namespace.
func TestDialInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ns")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mountNewNetns(path); err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	t.Cleanup(func() { _ = unmountAll(path) })
	// Listen inside, on its loopback (brought up first).
	var l net.Listener
	err := inNetns(path, func() error {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			return fmt.Errorf("lo up: %v %s", err, out)
		}
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			fmt.Fprint(c, "inside")
			c.Close()
		}
	}()
	addr := l.Addr().String()
	c, err := DialInNetns(t.Context(), path, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "inside" {
		t.Fatalf("read %q", b)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s answers in the host's namespace too: the test proves nothing", addr)
	}
	if _, err := DialInNetns(t.Context(), filepath.Join(dir, "missing"), "tcp", addr); err == nil {
		t.Fatal("dialled in a namespace that does not exist")
	}
}
