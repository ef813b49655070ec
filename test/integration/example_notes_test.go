package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestExampleNotes runs examples/notes as the README tells an operator to
// (the Secret's file with mode 600), with the test image: the page comes
// from the ConfigMap, the password from the Secret, the start count from
// the claim; a ConfigMap edit changes the page without a restart.
func TestExampleNotes(t *testing.T) {
	d := startDaemon(t)
	read := func(name string) string {
		b, err := os.ReadFile("../../examples/notes/" + name)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "localhost/minilet/busybox:1", BusyboxImage)
		// The host port of the example may be taken on a test machine.
		return strings.ReplaceAll(s, "hostPort: 18081", "hostPort: 0")
	}
	d.writeSecretManifest("notes-secret.yaml", read("secret.yaml"))
	notes := read("notes.yaml")
	d.writeManifest("notes.yaml", notes)
	p := d.waitPod("notes", 60*time.Second, "runs", allRunning)
	url := "http://" + p.Status.PodIP + ":8080/"
	c := http.Client{Timeout: 5 * time.Second}
	get := func(user, pass string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	d.eventually(20*time.Second, "the page answers with the password", func() error {
		if code, body := get("admin", "change-me"); code != 200 || !strings.Contains(body, "Hello from minilet") {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	if code, _ := get("", ""); code != 401 {
		t.Errorf("without the password: %d, want 401", code)
	}
	if code, _ := get("admin", "wrong"); code != 401 {
		t.Errorf("with a wrong password: %d, want 401", code)
	}
	d.eventually(10*time.Second, "the log counts one start", func() error {
		if out := d.cli("logs", "notes"); !strings.Contains(out, "started 1 times; password of user admin") {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	d.writeManifest("notes.yaml", strings.Replace(notes, "Hello from minilet", "Edited in place", 1))
	d.eventually(20*time.Second, "the edited page is served", func() error {
		if code, body := get("admin", "change-me"); code != 200 || !strings.Contains(body, "Edited in place") {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	if p, err := d.pod("default", "notes"); err != nil || restartsOf(p, "web") != 0 {
		t.Errorf("the edit restarted the pod: %v", err)
	}
}
