package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/ociarchive"
)

// UserImage is a busybox image whose USER is 1000 (user app, gid 1000,
// listed in group extra 4242 of its /etc/group).
const UserImage = "localhost/minilet-test/busybox-app:1"

func (d *daemon) importUserImage() {
	d.t.Helper()
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := range files {
		switch files[i].Path {
		case "/etc/passwd":
			files[i].Data = []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n")
		case "/etc/group":
			files[i].Data = []byte("root:x:0:\napp:x:1000:\nextra:x:4242:app\n")
		}
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, UserImage, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}, User: "1000"}); err != nil {
		d.t.Fatal(err)
	}
	tar := filepath.Join(d.RootDir, "..", "app-image.tar")
	if err := os.WriteFile(tar, buf.Bytes(), 0o644); err != nil {
		d.t.Fatal(err)
	}
	if err := d.ImportImage(tar); err != nil {
		d.t.Fatal(err)
	}
}

// procIDs returns the Uid, Gid and Groups lines of a process's status.
func procIDs(t *testing.T, pid uint32) (uid, gid, groups string) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "Uid" && len(f) > 0:
			uid = f[0]
		case k == "Gid" && len(f) > 0:
			gid = f[0]
		case k == "Groups":
			groups = strings.Join(f, " ")
		}
	}
	return uid, gid, groups
}

// TestImageUser: a container without runAsUser runs as its image's USER
// (so runAsNonRoot holds for what really runs), with the groups its image's
// /etc/group gives the user unless supplementalGroupsPolicy is Strict;
// runAsGroup alone replaces the group.
func TestImageUser(t *testing.T) {
	d := startDaemon(t)
	d.importUserImage()
	pod := func(name, podSC, ctrSC string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 0
  securityContext: {%s}
  containers:
  - name: app
    image: %s
    command: [sleep, "3600"]
    securityContext: {%s}
`, name, podSC, UserImage, ctrSC)
	}
	d.writeManifest("users.yaml", strings.Join([]string{
		pod("image-user", "runAsNonRoot: true", ""),
		pod("strict", "supplementalGroupsPolicy: Strict", ""),
		pod("group-only", "", "runAsGroup: 3000"),
		pod("as-root", "runAsUser: 0", ""),
	}, "---\n"))
	cases := []struct {
		pod, uid, gid, groups string
	}{
		{"image-user", "1000", "1000", "1000 4242"},
		{"strict", "1000", "1000", "1000"},
		{"group-only", "1000", "3000", "3000 4242"},
		{"as-root", "0", "0", "0"},
	}
	for _, c := range cases {
		p := d.waitPod(c.pod, 60*time.Second, "runs", allRunning)
		_, pids := d.pids(p)
		uid, gid, groups := procIDs(t, pids["app"])
		if uid != c.uid || gid != c.gid || groups != c.groups {
			t.Errorf("%s: uid %s gid %s groups %q, want %s %s %q", c.pod, uid, gid, groups, c.uid, c.gid, c.groups)
		}
	}
	// runAsNonRoot with a root image user is refused at container creation.
	d.writeManifest("root.yaml", fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: root}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: app, image: %s, command: [sleep, \"1\"]}]\n", BusyboxImage))
	d.waitPod("root", 30*time.Second, "is refused", func(p *v1.Pod) error {
		cs := containerStatus(p, "app")
		if cs == nil || cs.State.Waiting == nil || cs.State.Waiting.Reason != "CreateContainerConfigError" {
			return fmt.Errorf("%+v", cs)
		}
		return nil
	})
}

// TestTTY: a container with tty: true gets a terminal (its output, through
// the terminal, still reaches its log); it failed to start before.
func TestTTY(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("tty.yaml", fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: tty}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers: [{name: app, image: %s, command: [sh, -c, 'tty; exec sleep 3600'], tty: true}]\n", BusyboxImage))
	d.waitPod("tty", 60*time.Second, "runs", allRunning)
	d.eventually(10*time.Second, "the log shows the terminal", func() error {
		if out := d.cli("logs", "tty"); !strings.HasPrefix(out, "/dev/pts/") {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
}

// TestTerminationMessage: what a container writes to its
// terminationMessagePath is its terminated state's message (and its
// lastState's after a restart); with FallbackToLogsOnError a failure
// without a message shows the end of its log.
func TestTerminationMessage(t *testing.T) {
	d := startDaemon(t)
	d.writeManifest("msg.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: msg}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - name: custom
    image: %[1]s
    command: [sh, -c, 'echo "bye from custom" > /tmp/why; exit 3']
    terminationMessagePath: /tmp/why
  - name: default
    image: %[1]s
    command: [sh, -c, 'echo -n "written to the default path" > /dev/termination-log']
  - name: fallback
    image: %[1]s
    command: [sh, -c, 'echo line one; echo line two; exit 1']
    terminationMessagePolicy: FallbackToLogsOnError
  - name: readonly
    image: %[1]s
    command: [sh, -c, 'echo -n "despite a read-only root" > /dev/termination-log']
    securityContext: {readOnlyRootFilesystem: true, runAsUser: 1000}
`, BusyboxImage))
	want := map[string]string{
		"custom":   "bye from custom\n",
		"default":  "written to the default path",
		"fallback": "line one\nline two\n",
		"readonly": "despite a read-only root",
	}
	d.waitPod("msg", 60*time.Second, "has every message", func(p *v1.Pod) error {
		for name, msg := range want {
			cs := containerStatus(p, name)
			if cs == nil || cs.State.Terminated == nil {
				return fmt.Errorf("%s not terminated: %+v", name, cs)
			}
			if cs.State.Terminated.Message != msg {
				return fmt.Errorf("%s: message %q, want %q", name, cs.State.Terminated.Message, msg)
			}
		}
		return nil
	})
	if out := d.cli("describe", "pod", "msg"); !strings.Contains(out, "bye from custom") {
		t.Errorf("describe does not show the message:\n%s", out)
	}
}
