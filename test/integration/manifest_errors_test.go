package integration

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// manifestErrors returns the daemon's current manifest errors.
func (d *daemon) manifestErrors() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs, err := d.Client.ManifestErrors(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	return errs
}

// waitManifestError waits for an error on file that contains every part.
func (d *daemon) waitManifestError(file string, parts ...string) {
	d.t.Helper()
	d.eventually(15*time.Second, "an error for "+file+" mentions "+strings.Join(parts, ", "), func() error {
		errs := d.manifestErrors()
		for _, e := range errs {
			if !strings.Contains(e, file) {
				continue
			}
			for _, p := range parts {
				if !strings.Contains(e, p) {
					return fmt.Errorf("error lacks %q: %s", p, e)
				}
			}
			return nil
		}
		return fmt.Errorf("no error for %s in %q", file, errs)
	})
}

// TestBadManifests: each kind of broken file gets one clear error naming
// the file and the field, and harms nothing: a good pod keeps its PIDs, and
// a pod whose file turns invalid keeps running its last valid version.
func TestBadManifests(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("good.yaml", sleeperPod("good", ""))
	d.writeManifest("turns-bad.yaml", sleeperPod("turns-bad", ""))
	good := d.waitPod("good", 60*time.Second, "runs", allRunning)
	turns := d.waitPod("turns-bad", 60*time.Second, "runs", allRunning)
	goodPause, goodPids := d.pids(good)
	turnsPause, turnsPids := d.pids(turns)

	cases := []struct {
		file, content string
		parts         []string
	}{
		{"syntax.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n", []string{"line"}},
		{"unknown-field.yaml", strings.Replace(sleeperPod("unknown", ""), "image:", "imagee:", 1), []string{"spec.containers[0].imagee", "unknown field"}},
		{"wrong-type.yaml", strings.Replace(sleeperPod("wrongtype", ""), "terminationGracePeriodSeconds: 1", "terminationGracePeriodSeconds: soon", 1), []string{"terminationGracePeriodSeconds"}},
		{"duplicate.yaml", sleeperPod("good", ""), []string{"good.yaml", "duplicate.yaml"}},
		{"token.yaml", sleeperPod("token", "  volumes: [{name: c, projected: {sources: [{serviceAccountToken: {path: t}}]}}]\n"), []string{"serviceAccountToken", "TokenRequest"}},
	}
	for _, c := range cases {
		d.writeManifest(c.file, c.content)
	}
	for _, c := range cases {
		d.waitManifestError(c.file, c.parts...)
	}
	for _, e := range d.manifestErrors() {
		t.Log(e)
	}
	// The valid file turned invalid: its pod runs on, untouched.
	d.writeManifest("turns-bad.yaml", strings.Replace(sleeperPod("turns-bad", ""), "containers:", "containerz:", 1))
	d.waitManifestError("turns-bad.yaml", "containerz")
	d.waitEvent("turns-bad", "FailedManifest", "containerz", 10*time.Second)

	// Nothing from a bad file started, and nothing else was touched.
	for _, name := range []string{"unknown", "wrongtype", "cm"} {
		if _, err := d.pod("default", name); err == nil {
			t.Errorf("pod %s from a bad file was started", name)
		}
	}
	for _, name := range []string{"good", "turns-bad"} {
		p, err := d.pod("default", name)
		if err != nil {
			t.Fatalf("pod %s is gone: %v", name, err)
		}
		if err := allRunning(p); err != nil {
			t.Fatalf("pod %s: %v", name, err)
		}
	}
	if p2, m2 := d.pids(good); p2 != goodPause || m2["main"] != goodPids["main"] {
		t.Errorf("the good pod was restarted")
	}
	if p2, m2 := d.pids(turns); p2 != turnsPause || m2["main"] != turnsPids["main"] {
		t.Errorf("the pod whose file turned invalid was restarted")
	}

	// After a daemon restart, the held pod is still kept (no last-good
	// version in memory now), and fixing the file keeps it as it was.
	d.signal(syscall.SIGKILL)
	d.start()
	d.waitManifestError("turns-bad.yaml", "containerz")
	if p2, m2 := d.pids(turns); p2 != turnsPause || m2["main"] != turnsPids["main"] {
		t.Errorf("after a daemon restart, the pod of the invalid file was restarted")
	}
	d.writeManifest("turns-bad.yaml", sleeperPod("turns-bad", ""))
	d.eventually(15*time.Second, "the fixed file has no error", func() error {
		for _, e := range d.manifestErrors() {
			if strings.Contains(e, "turns-bad.yaml") {
				return fmt.Errorf("still: %s", e)
			}
		}
		return nil
	})
	again := d.waitPod("turns-bad", 10*time.Second, "runs", allRunning)
	if again.UID != turns.UID {
		t.Errorf("fixing the file back to its old content replaced the pod")
	}
}
