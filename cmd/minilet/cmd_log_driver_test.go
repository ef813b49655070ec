package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/runtime/v2/logging"

	"github.com/minilet/minilet/pkg/containerlog"
)

// shimPipes stand in for the files containerd's shim gives the logging
// binary: the container's stdout (fd 3) and stderr (fd 4), and the ready
// pipe (fd 5).
type shimPipes struct {
	cfg            *logging.Config
	stdout, stderr *os.File // the container's ends
	readyR, readyW *os.File
	outR, errR     *os.File
	driverDone     chan error
	driverErrOut   bytes.Buffer
}

func startLogDriver(t *testing.T, ctx context.Context, o logDriverOptions) *shimPipes {
	t.Helper()
	p := &shimPipes{driverDone: make(chan error, 1)}
	var err error
	if p.outR, p.stdout, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if p.errR, p.stderr, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if p.readyR, p.readyW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range []*os.File{p.outR, p.stdout, p.errR, p.stderr, p.readyR, p.readyW} {
			f.Close()
		}
	})
	p.cfg = &logging.Config{ID: "c1", Namespace: "minilet", Stdout: p.outR, Stderr: p.errR}
	go func() { p.driverDone <- runLogDriver(ctx, p.cfg, p.readyW.Close, o, &p.driverErrOut) }()

	// The shim waits for the ready pipe to close before it starts the
	// container.
	if err := p.readyR.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := p.readyR.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("ready pipe: read %d, %v; want EOF", n, err)
	}
	return p
}

func (p *shimPipes) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.driverDone:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the log driver did not stop")
		return nil
	}
}

// logRecords returns the records of a CRI log file without timestamps.
func logRecords(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		ts, rest, _ := strings.Cut(line, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, rest)
	}
	return out
}

func waitForRecords(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if strings.Count(string(data), "\n") >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %q, want %d records", path, data, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestLogDriver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	p := startLogDriver(t, context.Background(), logDriverOptions{path: path, maxSize: 1 << 20, maxFiles: 2, drainGrace: time.Second})
	fmt.Fprint(p.stdout, "hello\n")
	waitForRecords(t, path, 1)
	fmt.Fprint(p.stderr, "oops\n")
	waitForRecords(t, path, 2)
	fmt.Fprint(p.stdout, "bye")
	p.stdout.Close()
	p.stderr.Close()
	if err := p.wait(t); err != nil {
		t.Fatal(err)
	}
	want := []string{"stdout F hello", "stderr F oops", "stdout P bye"}
	if got := logRecords(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if p.driverErrOut.Len() != 0 {
		t.Fatalf("driver complained: %s", p.driverErrOut.String())
	}
}

func TestLogDriverRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	p := startLogDriver(t, context.Background(), logDriverOptions{path: path, maxSize: 500, maxFiles: 3, drainGrace: time.Second})
	for i := range 100 {
		fmt.Fprintf(p.stdout, "line %d\n", i)
	}
	p.stdout.Close()
	p.stderr.Close()
	if err := p.wait(t); err != nil {
		t.Fatal(err)
	}
	rotated, err := filepath.Glob(path + ".*")
	if err != nil || len(rotated) != 2 {
		t.Fatalf("rotated files %v (%v), want 2", rotated, err)
	}
	if got := logRecords(t, path); got[len(got)-1] != "stdout F line 99" {
		t.Fatalf("last record %q", got[len(got)-1])
	}
}

// TestLogDriverSIGTERM stops a driver whose streams stay open, as when the
// shim gives up on a container whose children keep its pipes: it stops
// after the grace time, with what it read written.
func TestLogDriverSIGTERM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	ctx, cancel := context.WithCancel(context.Background())
	p := startLogDriver(t, ctx, logDriverOptions{path: path, maxSize: 1 << 20, maxFiles: 2, drainGrace: 50 * time.Millisecond})
	fmt.Fprint(p.stdout, "still here\n")
	waitForRecords(t, path, 1)
	cancel()
	if err := p.wait(t); err == nil || !strings.Contains(err.Error(), "stopped before the container's output ended") {
		t.Fatalf("err = %v", err)
	}
	if got := logRecords(t, path); fmt.Sprint(got) != fmt.Sprint([]string{"stdout F still here"}) {
		t.Fatalf("records %q", got)
	}
}

// TestLogDriverCannotWrite keeps reading the container's output when the
// log cannot be written, and reports the dropped lines.
func TestLogDriverCannotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone", "0.log")
	p := startLogDriver(t, context.Background(), logDriverOptions{path: path, maxSize: 1 << 20, maxFiles: 2, drainGrace: time.Second})
	for range 1000 {
		fmt.Fprint(p.stdout, "into the void\n") // would block without a reader
	}
	p.stdout.Close()
	p.stderr.Close()
	if err := p.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := p.driverErrOut.String(); !strings.Contains(got, "1000 records of "+path+" could not be written") {
		t.Fatalf("driver said %q", got)
	}
}

// TestLogDriverArgs checks the contract with the runtime: the arguments
// of containerlog.DriverArgs, put on the command line as containerd's
// shim does (key, value pairs in any order), select the hidden log-driver
// command with the right options.
func TestLogDriverArgs(t *testing.T) {
	const path = "/var/log/pods/default_web_uid/app/3.log"
	args := containerlog.DriverArgs(path, 10<<20, 5, containerlog.Stdin{})
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	for _, order := range permutations(keys) {
		var argv []string
		for _, k := range order {
			argv = append(argv, k, args[k])
		}
		root := rootWithLogCommands("")
		cmd, rest, err := root.Find(argv)
		if err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		if cmd.Name() != "log-driver" || !cmd.Hidden {
			t.Fatalf("%q: found %q (hidden %v)", argv, cmd.Name(), cmd.Hidden)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		fl := cmd.Flags()
		maxFiles, _ := fl.GetInt("max-files")
		o, err := logDriverOptionsFrom(fl.Lookup("path").Value.String(), fl.Args(), fl.Lookup("max-size").Value.String(), maxFiles)
		if err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		if o.path != path || o.maxSize != 10<<20 || o.maxFiles != 5 {
			t.Fatalf("%q: options %+v", argv, o)
		}
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{append([]string(nil), s...)}
	}
	var out [][]string
	for i := range s {
		rest := append(append([]string(nil), s[:i]...), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

func TestLogDriverOptions(t *testing.T) {
	for _, tc := range []struct {
		path     string
		args     []string
		maxSize  string
		maxFiles int
		want     string // error text, or "" for success
	}{
		{"/a/0.log", nil, "10Mi", 5, ""},
		{"", []string{"/a/0.log"}, "0", 1, ""},
		{"/a/0.log", []string{"/a/0.log"}, "1", 1, "give the log file once"},
		{"", nil, "1", 1, "absolute path"},
		{"rel/0.log", nil, "1", 1, "absolute path"},
		{"/a/0.log", nil, "-1", 1, "--max-size"},
		{"/a/0.log", nil, "lots", 1, "--max-size"},
		{"/a/0.log", nil, "1", 0, "--max-files"},
	} {
		o, err := logDriverOptionsFrom(tc.path, tc.args, tc.maxSize, tc.maxFiles)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc, err)
			} else if tc.maxSize == "10Mi" && o.maxSize != 10<<20 {
				t.Errorf("10Mi is %d bytes", o.maxSize)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc, err, tc.want)
		}
	}
}

func TestLogDriverIsHidden(t *testing.T) {
	var out, errOut lockedBuffer
	if err := runLogsCLI(context.Background(), t.TempDir(), &out, &errOut, "--help"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "log-driver") || !strings.Contains(out.String(), "logs") {
		t.Fatalf("help must show logs but not log-driver:\n%s", out.String())
	}
}

// TestLogDriverProcess is not a test: TestLogDriverAsShimChild runs the
// test binary as the logging binary, with the shim's arguments after "--".
func TestLogDriverProcess(t *testing.T) {
	if os.Getenv("MINILET_TEST_LOG_DRIVER") != "1" {
		t.Skip("helper process for TestLogDriverAsShimChild")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	root := rootWithLogCommands("")
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	os.Exit(0) // not reached: the driver exits by itself
}

// TestLogDriverAsShimChild starts the driver the way containerd's shim
// does (pkg/process.NewBinaryIO): the argv from the binary:// URI that
// cio.BinaryIO makes of containerlog.DriverArgs, the container's stdout and
// stderr on fds 3 and 4, and a ready pipe on fd 5 it waits on before the
// container starts; at the end it closes its pipes and sends SIGTERM.
func TestLogDriverAsShimChild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	uri, err := cio.LogURIGenerator("binary", os.Args[0], containerlog.DriverArgs(path, 1<<20, 3, containerlog.Stdin{}))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(uri.String())
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{"-test.run=^TestLogDriverProcess$", "--"}
	for k, vs := range parsed.Query() {
		argv = append(argv, k, vs[0])
	}
	cmd := exec.Command(parsed.Path, argv...)
	cmd.Env = []string{"MINILET_TEST_LOG_DRIVER=1", "CONTAINER_ID=c1", "CONTAINER_NAMESPACE=minilet"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{outR, errR, readyW}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outR.Close()
	errR.Close()
	readyW.Close()
	readyR.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := readyR.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("ready pipe: %d, %v; stderr: %s", n, err, stderr.String())
	}
	fmt.Fprintln(outW, "from the container")
	fmt.Fprintln(errW, "an error")
	waitForRecords(t, path, 2)
	outW.Close()
	errW.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("driver: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the driver did not exit")
	}
	got := logRecords(t, path)
	if len(got) != 2 || !slices.Contains(got, "stdout F from the container") || !slices.Contains(got, "stderr F an error") {
		t.Fatalf("records %q", got)
	}
}
