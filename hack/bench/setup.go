package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minilet/minilet/internal/cbuild"
	"github.com/minilet/minilet/pkg/ociarchive"
)

// Images the bench imports into its namespaces.
const (
	busyboxImage = "localhost/minilet-bench/busybox:1"
	pauseImage   = "localhost/minilet-bench/pause:1"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpuModel"`
	Memory     string `json:"memory"`
	Kernel     string `json:"kernel"`
	Containerd string `json:"containerd"`
	Runc       string `json:"runc"`
	Go         string `json:"go"`
	// OtherLoad names what else ran: the load average at the start and any
	// containerd the bench did not start (e.g. integration tests).
	OtherLoad string `json:"otherLoad,omitempty"`
}

// checkTools fails early with a hint when the machine cannot run the bench.
func checkTools() error {
	if os.Geteuid() != 0 {
		return errors.New("the bench needs root (it runs containerd, runc and CNI)")
	}
	for _, tool := range []string{"containerd", "runc", "gcc", "strip", "ip", "iptables", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed; run `make deps`", tool)
		}
	}
	for _, f := range []string{"/bin/busybox", "/usr/lib/cni/bridge"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing; run `make deps`", f)
		}
	}
	return nil
}

// findRepo walks up from the working directory to minilet's go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/minilet/minilet\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the bench inside the minilet repository (go run ./hack/bench)")
		}
		dir = parent
	}
}

// gitVersion is what the Makefile stamps into minilet.
func gitVersion(repo string) string {
	out, err := exec.Command("git", "-C", repo, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}

// binaries are the programs the bench built.
type binaries struct {
	minilet   string
	logDriver string // minilet-log-driver, or minilet itself in trees without it
	pause     string
}

// buildBinaries builds every command under cmd/, the log driver (from
// logdriver/logdriver.c where the tree has it; older trees had it under
// cmd/, or none) and the pause program into binDir, with the Makefile's
// flags, without touching the repository's bin/. The daemon finds the log
// driver beside itself.
func buildBinaries(repo, binDir, version string) (binaries, error) {
	var bins binaries
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return bins, err
	}
	cmds, err := os.ReadDir(filepath.Join(repo, "cmd"))
	if err != nil {
		return bins, err
	}
	for _, c := range cmds {
		if !c.IsDir() {
			continue
		}
		out := filepath.Join(binDir, c.Name())
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/"+c.Name())
		build.Dir = repo
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := build.CombinedOutput(); err != nil {
			return bins, fmt.Errorf("build %s: %v\n%s", c.Name(), err, msg)
		}
	}
	bins.minilet = filepath.Join(binDir, "minilet")
	if _, err := os.Stat(bins.minilet); err != nil {
		return bins, fmt.Errorf("cmd/minilet was not built: %w", err)
	}
	bins.logDriver = filepath.Join(binDir, "minilet-log-driver")
	if src := filepath.Join(repo, "logdriver", "logdriver.c"); fileExists(src) {
		if err := cbuild.Static(src, bins.logDriver); err != nil {
			return bins, err
		}
	}
	if !fileExists(bins.logDriver) {
		bins.logDriver = bins.minilet
	}
	bins.pause = filepath.Join(binDir, "pause")
	return bins, cbuild.Static(filepath.Join(repo, "pause", "pause.c"), bins.pause)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeImages writes the busybox image archive and the pause image archive
// (the same image minilet builds from its pause program) under dir.
func writeImages(dir, pauseBin string) (busyboxTar, pauseTar string, err error) {
	files, err := ociarchive.BusyboxFiles("/bin/busybox", nil)
	if err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	if err := ociarchive.Write(&buf, busyboxImage, files, ociarchive.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}); err != nil {
		return "", "", err
	}
	busyboxTar = filepath.Join(dir, "busybox.tar")
	if err := os.WriteFile(busyboxTar, buf.Bytes(), 0o644); err != nil {
		return "", "", err
	}
	data, err := os.ReadFile(pauseBin)
	if err != nil {
		return "", "", err
	}
	buf.Reset()
	err = ociarchive.Write(&buf, pauseImage, []ociarchive.File{{Path: "/pause", Mode: 0o755, Data: data}},
		ociarchive.Config{Entrypoint: []string{"/pause"}})
	if err != nil {
		return "", "", err
	}
	pauseTar = filepath.Join(dir, "pause.tar")
	return busyboxTar, pauseTar, os.WriteFile(pauseTar, buf.Bytes(), 0o644)
}

// describeMachine collects the machine's description; ownContainerd is the
// PID of the bench's containerd, which is not "other load".
func describeMachine(ownContainerd int) Machine {
	m := Machine{CPUs: goruntime.NumCPU(), Go: goruntime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.Memory = fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if out, err := exec.Command("containerd", "--version").Output(); err == nil {
		f := strings.Fields(string(out))
		if len(f) >= 3 {
			m.Containerd = "containerd " + f[2]
		}
	}
	if out, err := exec.Command("runc", "--version").Output(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		m.Runc = strings.TrimPrefix(strings.TrimSpace(first), "runc version ")
	}
	var load []string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = append(load, "load average "+strings.Join(f[:3], " "))
		}
	}
	if n := otherContainerds(ownContainerd); n > 0 {
		load = append(load, fmt.Sprintf("%d other containerd processes (other tests ran on this machine: figures are noisy)", n))
	}
	m.OtherLoad = strings.Join(load, "; ")
	return m
}

// otherContainerds counts containerd daemons other than own.
func otherContainerds(own int) int {
	n := 0
	for _, pid := range pids() {
		if pid != own && filepath.Base(exeOf(pid)) == "containerd" {
			n++
		}
	}
	return n
}
