package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func namedPod(name string) string {
	return strings.Replace(podYAML("", ""), "name: web", "name: "+name, 1)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

// scanDir lists dir and returns path → error text ("" when usable, else
// the error), and path → pod names.
func scanDir(t *testing.T, dir string, opts Options) (map[string]string, error) {
	t.Helper()
	files, err := listDir(dir, opts)
	got := map[string]string{}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.path)
		if f.err != nil {
			got[rel] = "error: " + f.err.Error()
			continue
		}
		var names []string
		for _, p := range f.pods {
			names = append(names, p.Pod.Name)
		}
		got[rel] = strings.Join(names, ",")
	}
	return got, err
}

func TestListDirNames(t *testing.T) {
	dir := t.TempDir()
	for name, pod := range map[string]string{
		"a.yaml": "a", "b.yml": "b", "c.json": "", "D.YAML": "d",
		".hidden.yaml": "h1", "web.yaml~": "h2", "web.yaml.swp": "h3", "web.bak": "h4",
		"web.tmp": "h5", "README.md": "h6", "web.yaml.bak": "h7", ".web.yaml.swp": "h8",
	} {
		content := namedPod(pod)
		if pod == "" {
			content = `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}`
		}
		writeFile(t, filepath.Join(dir, name), content, 0o644)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub.yaml", "x.yaml"), namedPod("x"), 0o644)
	writeFile(t, filepath.Join(dir, "empty.yaml"), "# nothing yet\n", 0o644)

	got, err := scanDir(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"D.YAML": "d", "a.yaml": "a", "b.yml": "b", "c.json": "c", "empty.yaml": ""}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestListDirRefuses(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(dir, "big.yaml"), namedPod("big")+strings.Repeat("#", MaxFileSize), 0o644)
	writeFile(t, filepath.Join(outside, "pod.yaml"), namedPod("outside"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "pod.yaml"), filepath.Join(dir, "out.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "store", "pod.txt"), namedPod("inside"), 0o644)
	if err := os.Symlink("store/pod.txt", filepath.Join(dir, "in.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing.txt", filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("store", filepath.Join(dir, "linkdir.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := scanDir(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"big.yaml":      "error: file has 1048679 bytes, more than the limit for a manifest, 1 MiB",
		"out.yaml":      "error: symlink points outside the manifest directory",
		"in.yaml":       "inside",
		"dangling.yaml": "error: broken symlink",
		"fifo.yaml":     "error: not a regular file",
	} {
		if !strings.HasPrefix(got[file], want) {
			t.Errorf("%s: got %q, want %q", file, got[file], want)
		}
	}
	if _, ok := got["linkdir.yaml"]; ok {
		t.Errorf("a symlink to a directory was read: %q", got["linkdir.yaml"])
	}

	got, _ = scanDir(t, dir, Options{FollowSymlinks: true})
	if got["out.yaml"] != "outside" {
		t.Errorf("FollowSymlinks: out.yaml gave %q, want pod outside", got["out.yaml"])
	}
}

func TestListDirStrictPerms(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "open.yaml"), namedPod("open"), 0o666)
	writeFile(t, filepath.Join(dir, "group.yaml"), namedPod("group"), 0o664)
	writeFile(t, filepath.Join(dir, "safe.yaml"), namedPod("safe"), 0o644)

	got, err := scanDir(t, dir, Options{})
	if err != nil || got["open.yaml"] != "open" {
		t.Fatalf("without StrictPerms: %v, %v", got, err)
	}
	got, _ = scanDir(t, dir, Options{StrictPerms: true})
	for _, f := range []string{"open.yaml", "group.yaml"} {
		if !strings.Contains(got[f], "writable by group or others") {
			t.Errorf("%s: got %q, want it refused", f, got[f])
		}
	}
	if os.Geteuid() != 0 {
		if !strings.Contains(got["safe.yaml"], "not root") {
			t.Errorf("safe.yaml, not owned by root: got %q, want it refused", got["safe.yaml"])
		}
		return
	}
	if got["safe.yaml"] != "safe" {
		t.Errorf("safe.yaml: got %q", got["safe.yaml"])
	}
	if err := os.Chown(filepath.Join(dir, "safe.yaml"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	got, _ = scanDir(t, dir, Options{StrictPerms: true})
	if !strings.Contains(got["safe.yaml"], "owned by uid 1000, not root") {
		t.Errorf("file owned by 1000: got %q", got["safe.yaml"])
	}

	// An unsafe directory makes every file refused (and held).
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	got, err = scanDir(t, dir, Options{StrictPerms: true})
	if err == nil || !strings.Contains(err.Error(), "directory is writable by group or others") {
		t.Errorf("dir 0777: error %v", err)
	}
	if len(got) != 3 || !strings.Contains(got["safe.yaml"], "unsafe") {
		t.Errorf("dir 0777: files %v, want all refused", got)
	}
}
