package claims

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// prjquotaFS mounts a small ext4 with project quotas on a loop device for
// the test, or skips.
func prjquotaFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a filesystem needs root")
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("no mkfs.ext4")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("truncate", "-s", "64M", img).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-O", "quota,project", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4 with project quotas: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop,prjquota", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("mount with prjquota: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-d", mnt).Run() })
	return mnt
}

func TestLimitEnforcesTheRequest(t *testing.T) {
	root := prjquotaFS(t)
	s := Store{Root: root}
	dir := s.Dir("default", "data")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// Data written before the limit counts too.
	if err := os.WriteFile(filepath.Join(dir, "before"), make([]byte, 256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	enforced, err := Limit(dir, 1<<20)
	if err != nil || !enforced {
		t.Fatalf("Limit: enforced %v, %v", enforced, err)
	}
	f, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	_, werr := f.Write(make([]byte, 2<<20))
	if werr == nil {
		werr = f.Sync()
	}
	f.Close()
	if !errors.Is(werr, syscall.EDQUOT) {
		t.Fatalf("writing 2 MiB into a 1 MiB claim: %v, want EDQUOT", werr)
	}
	vols, err := s.List()
	if err != nil || len(vols) != 1 || !vols[0].Enforced || vols[0].Bytes < 900<<10 || vols[0].Bytes > 1<<20 {
		t.Fatalf("list: %+v %v", vols, err)
	}
	// Outside project quotas: not enforced, no error.
	plain := Store{Root: t.TempDir()}
	pdir := plain.Dir("default", "data")
	os.MkdirAll(pdir, 0o777)
	if enforced, err := Limit(pdir, 1<<20); enforced || err != nil {
		t.Fatalf("without project quotas: enforced %v, %v", enforced, err)
	}
}

func TestQuotaDeviceIn(t *testing.T) {
	mi := `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 22 7:0 / /var/lib/minilet/volumes rw,relatime - xfs /dev/loop0 rw,attr2,inode64,prjquota
31 30 0:40 / /var/lib/minilet/volumes/default/tmp rw - tmpfs tmpfs rw
32 22 7:1 / /srv/plain rw - ext4 /dev/loop1 rw
33 22 7:2 / /srv/q rw - ext4 /dev/loop2 rw,prjquota
`
	for path, want := range map[string]string{
		"/var/lib/minilet/volumes/default/data": "/dev/loop0",
		"/var/lib/minilet/volumes/default/tmp":  "", // a tmpfs over it
		"/var/lib/minilet/volumesx":             "",
		"/srv/plain/x":                          "",
		"/srv/q/claims/a":                       "/dev/loop2",
		"/etc":                                  "",
	} {
		if got := quotaDeviceIn(mi, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
