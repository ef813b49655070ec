package podhost

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
)

func TestCheckHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	typ := func(t v1.HostPathType) *v1.HostPathType { return &t }
	cases := []struct {
		path    string
		typ     *v1.HostPathType
		wantErr string
	}{
		{filepath.Join(dir, "missing"), nil, ""},
		{dir, typ(v1.HostPathDirectory), ""},
		{file, typ(v1.HostPathDirectory), "is not a directory"},
		{filepath.Join(dir, "missing"), typ(v1.HostPathDirectory), "does not exist"},
		{filepath.Join(dir, "new/sub"), typ(v1.HostPathDirectoryOrCreate), ""},
		{filepath.Join(dir, "newfile"), typ(v1.HostPathFileOrCreate), ""},
		{file, typ(v1.HostPathFile), ""},
		{dir, typ(v1.HostPathFile), "is not a file"},
		{file, typ(v1.HostPathSocket), "is not a socket"},
		{"/dev/null", typ(v1.HostPathCharDev), ""},
		{file, typ(v1.HostPathBlockDev), "is not a block device"},
	}
	for _, c := range cases {
		err := checkHostPath(&v1.HostPathVolumeSource{Path: c.path, Type: c.typ})
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s %v: %v", c.path, c.typ, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s %v: error %v, want %q", c.path, c.typ, err, c.wantErr)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "new/sub")); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate did not create the directory")
	}
	if fi, err := os.Stat(filepath.Join(dir, "newfile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate did not create the file")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAtomic(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != content {
			t.Fatalf("content %q, want %q", b, content)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestPrepareAndTeardown mounts real tmpfs: it needs root.
func TestPrepareAndTeardown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting tmpfs needs root")
	}
	root := t.TempDir()
	size := resource.MustParse("4Mi")
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "c"}},
			Volumes: []v1.Volume{
				{Name: "disk", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
				{Name: "mem", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{Medium: v1.StorageMediumMemory, SizeLimit: &size}}},
			}}}
	paths := podsandbox.NewPaths(filepath.Join(root, "state"), filepath.Join(root, "run"), filepath.Join(root, "logs"), pod)
	h := Host{HostResolv: writeTemp(t, "nameserver 9.9.9.9\n"), HostHosts: writeTemp(t, "127.0.0.1 localhost\n")}
	for i := 0; i < 2; i++ { // idempotent
		if err := h.Prepare(pod, paths); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.WriteFiles(pod, paths, []string{"10.0.0.9"}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{paths.ShmDir, paths.VolumeDir("mem")} {
		if ok, _ := isMountPoint(dir); !ok {
			t.Errorf("%s is not a mount point", dir)
		}
	}
	if ok, _ := isMountPoint(paths.VolumeDir("disk")); ok {
		t.Errorf("a disk emptyDir must not be a tmpfs")
	}
	if b, _ := os.ReadFile(paths.ResolvFile()); string(b) != "nameserver 9.9.9.9\n" {
		t.Errorf("resolv.conf %q", b)
	}
	if b, _ := os.ReadFile(paths.HostsFile()); !strings.Contains(string(b), "10.0.0.9\tp") {
		t.Errorf("hosts %q", b)
	}
	if err := h.Teardown(paths); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{paths.StateDir, filepath.Dir(paths.ShmDir)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after teardown", p)
		}
	}
	if err := h.Teardown(paths); err != nil {
		t.Fatalf("second teardown: %v", err)
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRemoveOldContainerLogs(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "u1"}}
	p := podsandbox.NewPaths(t.TempDir(), t.TempDir(), t.TempDir(), pod)
	dir := filepath.Dir(p.ContainerLog("app", 0))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"0.log", "1.log", "1.log.20260102-030405.000001", "2.log", "3.log", "10.log", "notes.txt", "x.log"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := (Host{}).RemoveOldContainerLogs(p, "app", 3); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"10.log", "3.log", "notes.txt", "x.log"}; !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
	if err := (Host{}).RemoveOldContainerLogs(p, "gone", 3); err != nil {
		t.Fatalf("a container without a log directory: %v", err)
	}
}

func TestLogLinks(t *testing.T) {
	logs, links := t.TempDir(), t.TempDir()
	h := Host{LogLinkDir: links}
	web := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "u1"}}
	db := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "db", UID: "u2"}}
	pw, pd := podsandbox.NewPaths(t.TempDir(), t.TempDir(), logs, web), podsandbox.NewPaths(t.TempDir(), t.TempDir(), logs, db)
	for _, f := range []string{pw.ContainerLog("app", 0), pw.ContainerLog("app", 1), pw.ContainerLog("app", 2), pd.ContainerLog("sql", 0)} {
		if err := os.MkdirAll(filepath.Dir(f), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	link := func(pod *v1.Pod, p podsandbox.Paths, c string, attempt int) string {
		id := fmt.Sprintf("%s-%s-%d", pod.UID, c, attempt)
		if err := h.LinkContainerLog(pod, c, id, p.ContainerLog(c, attempt)); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(links, LogLinkName(pod, c, id))
	}
	w0, w1, w2 := link(web, pw, "app", 0), link(web, pw, "app", 1), link(web, pw, "app", 2)
	d0 := link(db, pd, "sql", 0)
	if filepath.Base(w0) != "web_default_app-u1-app-0.log" {
		t.Errorf("link name %s, want the kubelet's <pod>_<namespace>_<container>-<id>.log", filepath.Base(w0))
	}
	if target, err := os.Readlink(w1); err != nil || target != pw.ContainerLog("app", 1) {
		t.Fatalf("%s → %q (%v)", w1, target, err)
	}
	// A link of someone else's that points elsewhere, and a file.
	if err := os.Symlink("/var/log/elsewhere.log", filepath.Join(links, "other.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(links, "plain.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }

	if err := h.RemoveOldContainerLogs(pw, "app", 1); err != nil {
		t.Fatal(err)
	}
	if exists(w0) || !exists(w1) || !exists(w2) {
		t.Errorf("after removing attempt 0's log: links %v %v %v, want only the first gone", exists(w0), exists(w1), exists(w2))
	}
	if err := os.Remove(pw.ContainerLog("app", 1)); err != nil {
		t.Fatal(err)
	}
	if err := h.SweepLogLinks(logs); err != nil {
		t.Fatal(err)
	}
	if exists(w1) || !exists(w2) || !exists(d0) {
		t.Errorf("sweep: links %v %v %v, want only the dangling one gone", exists(w1), exists(w2), exists(d0))
	}
	if err := h.RemoveLogs(pw); err != nil {
		t.Fatal(err)
	}
	if exists(w2) || !exists(d0) || !exists(filepath.Join(links, "other.log")) || !exists(filepath.Join(links, "plain.log")) {
		t.Errorf("pod removal: web's links must go, the others stay")
	}
	long := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("p", 200)}}
	if n := LogLinkName(long, "c", "id"); len(n) != 255 || !strings.HasSuffix(n, ".log") {
		t.Errorf("long link name: %d bytes %q", len(n), n)
	}
	if err := (Host{}).LinkContainerLog(web, "app", "x", pw.ContainerLog("app", 2)); err != nil {
		t.Errorf("no link dir: %v", err)
	}
}

func TestApplyFSGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's group to any gid needs root")
	}
	root := t.TempDir()
	sub := filepath.Join(root, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(sub, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := applyFSGroup(root, 2345, nil); err != nil {
		t.Fatal(err)
	}
	check := func(path string, mode fs.FileMode) {
		t.Helper()
		info, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if gid := info.Sys().(*syscall.Stat_t).Gid; gid != 2345 {
			t.Errorf("%s: group %d, want 2345", path, gid)
		}
		if mode != 0 && info.Mode()&(fs.ModePerm|fs.ModeSetgid) != mode {
			t.Errorf("%s: mode %v, want %v", path, info.Mode(), mode)
		}
	}
	check(sub, 0o770|fs.ModeSetgid)
	check(file, 0o660)
	check(filepath.Join(root, "link"), 0)
	if b, err := os.ReadFile("/etc/hostname"); err == nil {
		if info, _ := os.Stat("/etc/hostname"); info.Sys().(*syscall.Stat_t).Gid == 2345 {
			t.Errorf("the link's target was re-grouped (%q)", b)
		}
	}

	// OnRootMismatch: a root that already matches is not walked.
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	policy := v1.FSGroupChangeOnRootMismatch
	if err := applyFSGroup(root, 2345, &policy); err != nil {
		t.Fatal(err)
	}
	check(file, 0o600)
	if err := applyFSGroup(root, 2345, nil); err != nil {
		t.Fatal(err)
	}
	check(file, 0o660)
}
