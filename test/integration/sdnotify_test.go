package integration

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify: under a NOTIFY_SOCKET of the test's own, minilet sends
// READY=1 once it has applied the manifests, a STATUS= summary, WATCHDOG=1
// pings at the interval systemd asks for, and STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	d := startDaemon(t)
	d.signal(syscall.SIGTERM)
	sock := filepath.Join(d.Dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var (
		mu   sync.Mutex
		msgs []string
	)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, string(buf[:n]))
			mu.Unlock()
		}
	}()
	received := func(prefix string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, m := range msgs {
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(line, prefix) {
					n++
				}
			}
		}
		return n
	}
	d.writeManifest("one.yaml", sleeperPod("one", ""))
	d.Env = []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"}
	d.start()
	d.eventually(10*time.Second, "READY=1 arrives", func() error {
		if received("READY=1") == 0 {
			return fmt.Errorf("messages: %q", msgs)
		}
		return nil
	})
	// STATUS= from the first moment: before READY=1, and with it.
	mu.Lock()
	first, withReady := msgs[0], ""
	for _, m := range msgs {
		if strings.HasPrefix(m, "READY=1") {
			withReady = m
		}
	}
	mu.Unlock()
	if first != "STATUS=starting" || !strings.Contains(withReady, "\nSTATUS=") {
		t.Fatalf("first message %q, READY message %q: want a status before READY=1 and one with it", first, withReady)
	}
	d.waitPod("one", 60*time.Second, "runs", allRunning)
	d.eventually(15*time.Second, "watchdog pings and a status line arrive", func() error {
		if received("WATCHDOG=1") < 3 || received("STATUS=1 pods: 1 running") == 0 {
			mu.Lock()
			defer mu.Unlock()
			return fmt.Errorf("messages: %q", msgs)
		}
		return nil
	})
	d.signal(syscall.SIGTERM)
	d.eventually(5*time.Second, "STOPPING=1 arrives", func() error {
		if received("STOPPING=1") == 0 {
			return fmt.Errorf("no STOPPING=1")
		}
		return nil
	})
	d.Env = nil
	d.start() // for the cleanup, which removes the pod through the daemon
}
