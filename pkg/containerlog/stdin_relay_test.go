package containerlog

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStdinRelay: the Go driver's relay does what the C driver's does
// (logdriver.TestStdinRelay): it holds the fifo's writing end, copies each
// client's input into it, and with Once closes stdin and the socket when
// the first client leaves.
func TestStdinRelay(t *testing.T) {
	for _, once := range []bool{false, true} {
		dir := t.TempDir()
		s := Stdin{FIFO: filepath.Join(dir, "stdin"), Socket: filepath.Join(dir, "attach.sock"), Once: once}
		if err := syscall.Mkfifo(s.FIFO, 0o600); err != nil {
			t.Fatal(err)
		}
		opened := make(chan *os.File, 1)
		go func() {
			f, err := os.OpenFile(s.FIFO, os.O_RDONLY, 0)
			if err != nil {
				t.Error(err)
			}
			opened <- f
		}()
		r, err := startStdinRelay(s)
		if err != nil {
			t.Fatal(err)
		}
		in := <-opened
		send := func(text string) {
			t.Helper()
			c, err := net.Dial("unix", s.Socket)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, text)
			buf := make([]byte, len(text))
			if _, err := io.ReadFull(in, buf); err != nil || string(buf) != text {
				t.Fatalf("once=%v: read %q, %v; want %q", once, buf, err, text)
			}
			c.Close()
		}
		send("first\n")
		if once {
			done := make(chan error, 1)
			go func() { _, err := in.Read(make([]byte, 1)); done <- err }()
			select {
			case err := <-done:
				if err != io.EOF {
					t.Fatalf("after the only client: %v, want EOF", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("stdin stayed open after the first client left (Once)")
			}
		} else {
			send("second\n")
		}
		r.close()
		if _, err := os.Stat(s.Socket); !os.IsNotExist(err) {
			t.Errorf("once=%v: the socket outlived the relay: %v", once, err)
		}
		in.Close()
	}
}
