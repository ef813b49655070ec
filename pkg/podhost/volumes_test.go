package podhost

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/podvolume"
)

func payload(kv ...string) podvolume.Payload {
	out := podvolume.Payload{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = podvolume.File{Data: []byte(kv[i+1]), Mode: 0o644}
	}
	return out
}

// listVolume renders what a reader of dir sees: every name (through the
// links) with its content, and the hidden entries apart.
func listVolume(t *testing.T, dir string) (visible []string, hidden int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "..") {
			hidden++
			continue
		}
		real, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(real, p)
				visible = append(visible, filepath.Join(e.Name(), rel)+"="+string(data))
			}
			return nil
		})
	}
	sort.Strings(visible)
	return visible, hidden
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	changed, err := writeAtomic(dir, payload("a", "1", "sub/b", "2", "c", "3"), nil)
	if err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	got, hidden := listVolume(t, dir)
	if strings.Join(got, " ") != "a=1 c=3 sub/b=2" || hidden != 2 { // ..data and its directory
		t.Fatalf("after the first write: %q, %d hidden", got, hidden)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "a")); l != "..data/a" {
		t.Errorf("a links to %q", l)
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))

	// The same payload again: nothing changes.
	if changed, err := writeAtomic(dir, payload("a", "1", "sub/b", "2", "c", "3"), nil); err != nil || changed {
		t.Fatalf("same payload: changed %v, %v", changed, err)
	}
	if now, _ := os.Readlink(filepath.Join(dir, "..data")); now != first {
		t.Fatal("same payload made a new directory")
	}

	// An update: c goes, a changes, d comes; the old directory goes.
	if changed, err := writeAtomic(dir, payload("a", "one", "sub/b", "2", "d", "4"), nil); err != nil || !changed {
		t.Fatalf("update: %v %v", changed, err)
	}
	got, hidden = listVolume(t, dir)
	if strings.Join(got, " ") != "a=one d=4 sub/b=2" || hidden != 2 {
		t.Fatalf("after the update: %q, %d hidden", got, hidden)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old directory %s is still there: %v", first, err)
	}

	// A mode change alone is a change.
	p := payload("a", "one", "sub/b", "2", "d", "4")
	p["a"] = podvolume.File{Data: []byte("one"), Mode: 0o400}
	if changed, err := writeAtomic(dir, p, nil); err != nil || !changed {
		t.Fatalf("mode change: %v %v", changed, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a")); err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("mode of a: %v %v", fi.Mode(), err)
	}

	// A user-visible link someone removed is made again.
	os.Remove(filepath.Join(dir, "d"))
	if changed, err := writeAtomic(dir, p, nil); err != nil || !changed {
		t.Fatalf("missing link: %v %v", changed, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "d")); string(data) != "4" {
		t.Errorf("d = %q", data)
	}

	// A directory an interrupted write left is removed by the next write.
	os.Mkdir(filepath.Join(dir, "..2020_01_01_00_00_00.1"), 0o755)
	if _, err := writeAtomic(dir, payload("x", "y"), nil); err != nil {
		t.Fatal(err)
	}
	if _, hidden := listVolume(t, dir); hidden != 2 {
		t.Errorf("%d hidden entries, want 2", hidden)
	}

	// An empty payload (an optional object that is missing) is an empty volume.
	if _, err := writeAtomic(dir, podvolume.Payload{}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := listVolume(t, dir); len(got) != 0 {
		t.Errorf("empty payload shows %q", got)
	}

	for _, bad := range []string{"../x", "/etc/passwd", "..data", "a/../../x"} {
		if _, err := writeAtomic(dir, payload(bad, "x"), nil); err == nil {
			t.Errorf("path %q written", bad)
		}
	}
}

// A reader that resolves ..data once and reads every file sees one
// version, never a mix, while versions are written as fast as possible.
func TestWriteAtomicReaderNeverSeesAMix(t *testing.T) {
	dir := t.TempDir()
	version := func(n int) podvolume.Payload {
		v := strings.Repeat(string(rune('a'+n%26)), 100)
		return payload("one", v, "two", v, "sub/three", v)
	}
	if _, err := writeAtomic(dir, version(0), nil); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var mixes, reads atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				ts, err := filepath.EvalSymlinks(filepath.Join(dir, "..data"))
				if err != nil {
					continue
				}
				var seen [][]byte
				for _, f := range []string{"one", "two", "sub/three"} {
					data, err := os.ReadFile(filepath.Join(ts, f))
					if err != nil {
						seen = nil // the version was replaced and removed mid-read
						break
					}
					seen = append(seen, data)
				}
				if len(seen) == 3 {
					reads.Add(1)
					if !bytes.Equal(seen[0], seen[1]) || !bytes.Equal(seen[1], seen[2]) {
						mixes.Add(1)
					}
				}
			}
		}()
	}
	for n := 1; n < 300; n++ {
		if _, err := writeAtomic(dir, version(n), nil); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if mixes.Load() > 0 || reads.Load() == 0 {
		t.Fatalf("%d of %d reads saw a mix of versions", mixes.Load(), reads.Load())
	}
}

func TestWriteVolume(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting tmpfs and changing groups need root")
	}
	root := t.TempDir()
	gid := int64(4321)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-vol"},
		Spec: v1.PodSpec{
			SecurityContext: &v1.PodSecurityContext{FSGroup: &gid},
			Volumes: []v1.Volume{
				{Name: "creds", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "s"}}},
				{Name: "cfg", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{}}},
				{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
			},
		},
	}
	paths := podsandbox.NewPaths(filepath.Join(root, "lib"), filepath.Join(root, "run"), filepath.Join(root, "log"), pod)
	h := Host{}
	defer h.Teardown(paths)
	if _, err := h.WriteVolume(pod, paths, "creds", payload("password", "s3cret")); err != nil {
		t.Fatal(err)
	}
	dir := paths.VolumeDir("creds")
	if mounted, err := isMountPoint(dir); err != nil || !mounted {
		t.Fatalf("secret volume is not a mount point: %v %v", mounted, err)
	}
	var st fsStat
	if err := statfs(dir, &st); err != nil || st.tmpfs == false {
		t.Fatalf("secret volume is not a tmpfs: %+v %v", st, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "password"))
	if err != nil || fi.Mode().Perm() != 0o644|0o440 || fileGID(fi) != gid {
		t.Fatalf("password: %v gid %d, %v", fi.Mode(), fileGID(fi), err)
	}
	// Written twice, one mount.
	if _, err := h.WriteVolume(pod, paths, "creds", payload("password", "new")); err != nil {
		t.Fatal(err)
	}
	if n := mountsAt(t, dir); n != 1 {
		t.Errorf("%d mounts at %s, want 1", n, dir)
	}
	if _, err := h.WriteVolume(pod, paths, "cfg", payload("k", "v")); err != nil {
		t.Fatal(err)
	}
	if mounted, _ := isMountPoint(paths.VolumeDir("cfg")); mounted {
		t.Error("a configMap volume is on disk, not a tmpfs")
	}
	if _, err := h.WriteVolume(pod, paths, "scratch", payload("k", "v")); err == nil {
		t.Error("files written into an emptyDir")
	}
	if err := h.Teardown(paths); err != nil {
		t.Fatal(err)
	}
	if n := mountsAt(t, dir); n != 0 {
		t.Errorf("%d mounts left at %s", n, dir)
	}
}

func mountsAt(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			n++
		}
	}
	return n
}

type fsStat struct{ tmpfs bool }

func statfs(dir string, st *fsStat) error {
	var s syscallStatfs
	if err := statfsCall(dir, &s); err != nil {
		return err
	}
	st.tmpfs = s.Type == tmpfsMagic
	return nil
}

func TestRemoveContainerLogLink(t *testing.T) {
	dir := t.TempDir()
	h := Host{LogLinkDir: filepath.Join(dir, "links")}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	for _, id := range []string{"p-web-0", "p-web-1"} {
		if err := h.LinkContainerLog(pod, "web", id, filepath.Join(dir, id+".log")); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.RemoveContainerLogLink(pod, "web", "p-web-0"); err != nil {
		t.Fatal(err)
	}
	if err := h.RemoveContainerLogLink(pod, "web", "p-web-0"); err != nil {
		t.Fatalf("second removal: %v", err)
	}
	ents, _ := os.ReadDir(h.LogLinkDir)
	if len(ents) != 1 || ents[0].Name() != LogLinkName(pod, "web", "p-web-1") {
		t.Fatalf("links left: %v", ents)
	}
}
