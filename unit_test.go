package minilet_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit (with the
// binary path pointed at one that exists here) and checks the settings the
// daemon relies on.
func TestSystemdUnitVerifies(t *testing.T) {
	data, err := os.ReadFile("systemd/minilet.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, want := range []string{"Type=notify", "KillMode=process", "Delegate=yes", "WatchdogSec=", "Restart=always", "Requires=containerd.service"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	for _, bad := range []string{"ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateMounts="} {
		if strings.Contains(unit, "\n"+bad) {
			t.Errorf("%s gives the unit its own mount namespace: minilet's mounts would not reach runc", bad)
		}
	}
	if strings.Contains(unit, "\nRestrictSUIDSGID=yes") {
		t.Error("RestrictSUIDSGID=yes refuses the setgid bit minilet puts on emptyDir volumes for fsGroup")
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	path := filepath.Join(t.TempDir(), "minilet.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/minilet", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
