package node

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeHost writes host files into a temporary directory and returns
// paths to them. Files given as "" are left out.
func fakeHost(t *testing.T, files map[string]string) hostPaths {
	t.Helper()
	dir := t.TempDir()
	p := func(name string) string {
		path := filepath.Join(dir, name)
		if content, ok := files[name]; ok {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	return hostPaths{
		meminfo: p("meminfo"), pidMax: p("pid_max"), threadsMax: p("threads-max"), loadavg: p("loadavg"),
		osRelease: []string{p("os-release"), p("usr-os-release")}, machineID: p("machine-id"),
		productUUID: p("product_uuid"), bootID: p("boot_id"),
	}
}

const meminfo = `MemTotal:       16384004 kB
MemFree:         1234567 kB
MemAvailable:    8192000 kB
Buffers:          123456 kB
`

func TestReadHostStats(t *testing.T) {
	p := fakeHost(t, map[string]string{
		"meminfo":     meminfo,
		"pid_max":     "4194304\n",
		"threads-max": "126000\n",
		"loadavg":     "0.52 0.58 0.59 3/1234 56789\n",
	})
	h, err := readHostStats(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if h.NumCPU != runtime.NumCPU() || h.MemoryTotal != 16384004*1024 || h.MemoryAvailable != 8192000*1024 {
		t.Errorf("cpu/memory: %+v", h)
	}
	if h.MaxPIDs != 126000 || h.Tasks != 1234 {
		t.Errorf("pids: max %d tasks %d, want the smaller limit 126000 and 1234", h.MaxPIDs, h.Tasks)
	}
	if h.FsCapacity <= 0 || h.FsAvailable < 0 || h.FsAvailable > h.FsCapacity {
		t.Errorf("filesystem: capacity %d available %d", h.FsCapacity, h.FsAvailable)
	}
	if h.RuntimeErr != nil {
		t.Errorf("RuntimeErr %v", h.RuntimeErr)
	}
}

func TestReadHostStatsErrors(t *testing.T) {
	good := map[string]string{"meminfo": meminfo, "pid_max": "32768", "threads-max": "60000", "loadavg": "0.00 0.01 0.05 1/300 4242"}
	for _, tc := range []struct {
		name, file, content string
		want                string
	}{
		{"no meminfo", "meminfo", "", "read memory info"},
		{"meminfo without MemAvailable", "meminfo", "MemTotal: 1000 kB\n", "no MemTotal or MemAvailable"},
		{"meminfo bad number", "meminfo", "MemTotal: x kB\nMemAvailable: 1 kB\n", "MemTotal"},
		{"bad pid_max", "pid_max", "lots", "pid_max"},
		{"no threads-max", "threads-max", "", "threads-max"},
		{"short loadavg", "loadavg", "0.00 0.01", "want 5 fields"},
		{"loadavg without total", "loadavg", "0.00 0.01 0.05 300 4242", "running/total"},
	} {
		files := map[string]string{}
		for k, v := range good {
			files[k] = v
		}
		delete(files, tc.file)
		if tc.content != "" {
			files[tc.file] = tc.content
		}
		h, err := readHostStats(fakeHost(t, files), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		// What could be read is still there.
		if h.NumCPU == 0 || h.FsCapacity == 0 {
			t.Errorf("%s: partial stats lost: %+v", tc.name, h)
		}
	}
	_, err := readHostStats(fakeHost(t, good), filepath.Join(t.TempDir(), "missing"))
	if err == nil || !strings.Contains(err.Error(), "statfs") {
		t.Errorf("missing state dir: %v", err)
	}
}

func TestReadSystemInfo(t *testing.T) {
	p := fakeHost(t, map[string]string{
		"os-release":     "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\n",
		"usr-os-release": "PRETTY_NAME=\"wrong\"\n",
		"machine-id":     "0123456789abcdef\n",
		"boot_id":        "b0f6a3c1-1111-2222-3333-444455556666\n",
	})
	s := readSystemInfo(p)
	want := SystemInfo{OSImage: "Ubuntu 24.04.1 LTS", MachineID: "0123456789abcdef", BootID: "b0f6a3c1-1111-2222-3333-444455556666"}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}

	// The fallback os-release, unquoted and single-quoted values, and
	// no os-release at all.
	for _, tc := range []struct{ content, want string }{
		{"PRETTY_NAME=Alpine\n", "Alpine"},
		{"PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n", "Debian GNU/Linux 12 (bookworm)"},
		{"NAME=x\n", "Linux"},
	} {
		p := fakeHost(t, map[string]string{"usr-os-release": tc.content})
		if got := readSystemInfo(p).OSImage; got != tc.want {
			t.Errorf("os-release %q: %q, want %q", tc.content, got, tc.want)
		}
	}
	if got := readSystemInfo(fakeHost(t, nil)).OSImage; got != "Linux" {
		t.Errorf("no os-release: %q", got)
	}
}

// The real host: whatever it is, the numbers are sane.
func TestReadHostStatsRealHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	h, err := ReadHostStats(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if h.MemoryTotal <= 0 || h.MemoryAvailable <= 0 || h.MemoryAvailable > h.MemoryTotal || h.MaxPIDs <= 0 || h.Tasks <= 0 {
		t.Errorf("implausible host: %+v", h)
	}
	s := ReadSystemInfo()
	if s.KernelVersion == "" || s.OSImage == "" || s.BootID == "" {
		t.Errorf("system info %+v", s)
	}
}
