package logdriver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minilet/minilet/internal/cbuild"
	"github.com/minilet/minilet/pkg/containerlog"
)

// maxRSSKiB is the resident memory the driver must stay under.
const maxRSSKiB = 1024

// buildDriver compiles logdriver.c the way the release build does and
// returns the binary's path. It skips the test when gcc is missing.
func buildDriver(t *testing.T) string {
	return cbuild.ForTest(t, "logdriver.c", "minilet-log-driver")
}

// driver is one running minilet-log-driver, started as the shim starts it.
type driver struct {
	cmd    *exec.Cmd
	stdout *os.File // the container's stdout: what the test writes
	stderr *os.File
	errOut *bytes.Buffer
	done   chan error
}

func startDriver(t testing.TB, bin string, args ...string) *driver {
	t.Helper()
	r3, w3, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r4, w4, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r5, w5, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{cmd: exec.Command(bin, args...), stdout: w3, stderr: w4, errOut: &bytes.Buffer{}, done: make(chan error, 1)}
	d.cmd.ExtraFiles = []*os.File{r3, r4, w5}
	d.cmd.Stderr = d.errOut
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r3.Close()
	r4.Close()
	w5.Close()
	t.Cleanup(func() {
		d.stdout.Close()
		d.stderr.Close()
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	go func() { d.done <- d.cmd.Wait() }()
	// The shim waits for the ready pipe to close before it starts the
	// container.
	readyc := make(chan error, 1)
	go func() {
		_, err := r5.Read(make([]byte, 1))
		readyc <- err
	}()
	select {
	case err := <-readyc:
		if err != io.EOF {
			t.Fatalf("ready pipe: %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the driver did not close its ready pipe")
	}
	r5.Close()
	return d
}

// wait closes both streams and waits for the driver to exit.
func (d *driver) wait(t testing.TB) {
	t.Helper()
	d.stdout.Close()
	d.stderr.Close()
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("driver: %v; stderr: %s", err, d.errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("driver did not exit after its streams ended")
	}
}

// rec is one parsed CRI record.
type rec struct {
	ts     string
	stream string
	tag    string
	text   string
}

func (r rec) String() string { return fmt.Sprintf("%s %s %q", r.stream, r.tag, r.text) }

func parseFile(t *testing.T, path string) []rec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	var out []rec
	for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" && len(b) == 0 {
			break
		}
		parts := strings.SplitN(line, " ", 4)
		if len(parts) != 4 {
			t.Fatalf("%s: malformed record %q", path, line)
		}
		out = append(out, rec{parts[0], parts[1], parts[2], parts[3]})
	}
	return out
}

func byStream(rs []rec, stream string) []string {
	var out []string
	for _, r := range rs {
		if r.stream == stream {
			out = append(out, r.tag+" "+r.text)
		}
	}
	return out
}

// writeChunks writes data in pieces of random size.
func writeChunks(t *testing.T, w io.Writer, data []byte, rng *rand.Rand) {
	t.Helper()
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(20000))
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
}

// goRecords is what the Go writer makes of the two streams.
func goRecords(t *testing.T, stdout, stderr []byte) []rec {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	err := containerlog.RunDriver(context.Background(), bytes.NewReader(stdout), bytes.NewReader(stderr),
		func() error { return nil }, containerlog.DriverOptions{Path: path, MaxFiles: 1, DrainGrace: time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return parseFile(t, path)
}

// randomOutput makes output with the shapes that matter: empty lines,
// "\r\n" and lone "\r", lines around the 16 KiB cut, binary bytes, and
// maybe no newline at the end.
func randomOutput(rng *rand.Rand) []byte {
	var b bytes.Buffer
	for range 40 {
		switch rng.IntN(8) {
		case 0:
			b.WriteString("\n")
		case 1:
			b.WriteString("windows line\r\n")
		case 2:
			b.WriteString("a\rb\r\r\n")
		case 3:
			n := 16384 + rng.IntN(3) - 1
			b.WriteString(strings.Repeat("x", n))
			if rng.IntN(2) == 0 {
				b.WriteString("\r")
			}
			b.WriteString("\n")
		case 4:
			b.WriteString(strings.Repeat("y", 16384*2+rng.IntN(40000)) + "\n")
		case 5:
			raw := make([]byte, rng.IntN(300))
			for i := range raw {
				raw[i] = byte(rng.IntN(256))
			}
			b.Write(raw)
		default:
			fmt.Fprintf(&b, "line %d\n", rng.IntN(1000))
		}
	}
	if rng.IntN(2) == 0 {
		b.WriteString("no newline at the end\r")
	}
	return b.Bytes()
}

// TestSameRecordsAsGoWriter feeds the same output to the C driver and to
// pkg/containerlog's writer and compares the records, stream by stream.
func TestSameRecordsAsGoWriter(t *testing.T) {
	bin := buildDriver(t)
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			stdout, stderr := randomOutput(rng), randomOutput(rng)
			want := goRecords(t, stdout, stderr)

			path := filepath.Join(t.TempDir(), "0.log")
			before := time.Now()
			d := startDriver(t, bin, "--max-files", "1", "log-driver", path, "--max-size", "0", "--partial-flush-ms", "0")
			done := make(chan struct{})
			go func() {
				defer close(done)
				writeChunks(t, d.stdout, stdout, rand.New(rand.NewPCG(seed, 1)))
				d.stdout.Close()
			}()
			writeChunks(t, d.stderr, stderr, rand.New(rand.NewPCG(seed, 2)))
			<-done
			d.wait(t)
			after := time.Now()
			got := parseFile(t, path)

			for _, s := range []string{"stdout", "stderr"} {
				if g, w := byStream(got, s), byStream(want, s); !slices.Equal(g, w) {
					t.Errorf("%s: C driver wrote %d records, Go writer %d; first difference at %d", s, len(g), len(w), firstDiff(g, w))
				}
			}
			checkTimes(t, got, before, after)
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// checkTimes checks that every timestamp is Go's RFC3339Nano of itself in
// the local zone, within the run, and that they never go back.
func checkTimes(t *testing.T, rs []rec, before, after time.Time) {
	t.Helper()
	var last time.Time
	for _, r := range rs {
		ts, err := time.Parse(time.RFC3339Nano, r.ts)
		if err != nil {
			t.Fatalf("timestamp %q: %v", r.ts, err)
		}
		if again := ts.In(time.Local).Format(time.RFC3339Nano); again != r.ts {
			t.Fatalf("timestamp %q, Go writes %q", r.ts, again)
		}
		if ts.Before(before) || ts.After(after) || ts.Before(last) {
			t.Fatalf("timestamp %s outside the run [%s, %s] or before the last one %s", ts, before, after, last)
		}
		last = ts
	}
}

// TestHeldCarriageReturn: a "\r" that ends a read is held until the next
// byte shows whether it ends the line, also right at the 16 KiB cut.
func TestHeldCarriageReturn(t *testing.T) {
	bin := buildDriver(t)
	path := filepath.Join(t.TempDir(), "0.log")
	d := startDriver(t, bin, "log-driver", path, "--partial-flush-ms", "0")
	line := strings.Repeat("z", 16384)
	for _, piece := range []string{line + "\r", "\n", "ab\r", "\r", "\n"} {
		if _, err := io.WriteString(d.stdout, piece); err != nil {
			t.Fatal(err)
		}
		// Not a synchronisation: a pause makes the driver likely to read
		// each piece alone, which the assertions below must survive
		// either way.
		time.Sleep(20 * time.Millisecond)
	}
	d.wait(t)
	got := byStream(parseFile(t, path), "stdout")
	want := []string{"F " + line, "F ab\r"}
	if !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
}

var rotatedName = regexp.MustCompile(`^0\.log\.\d{8}-\d{6}\.\d{6}$`)

// TestRotation: the file is rotated before a record would take it over
// --max-size, at most --max-files files are kept, and what is kept is the
// end of the output, in order and without gaps.
func TestRotation(t *testing.T) {
	bin := buildDriver(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	// A rotated file of the kubelet's naming, and one that is not a
	// rotated file at all: the first is the oldest and goes, the other
	// stays.
	for _, name := range []string{"0.log.20200101-000000", "0.log.old.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	const maxSize, maxFiles, lines = 2000, 3, 400
	d := startDriver(t, bin, "log-driver", path, "--max-size", strconv.Itoa(maxSize), "--max-files", strconv.Itoa(maxFiles), "--partial-flush-ms", "0")
	for i := range lines {
		fmt.Fprintf(d.stdout, "line %04d %s\n", i, strings.Repeat("-", 30))
	}
	d.wait(t)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rotated []string
	for _, e := range entries {
		switch {
		case e.Name() == "0.log" || e.Name() == "0.log.old.gz":
		case rotatedName.MatchString(e.Name()):
			rotated = append(rotated, e.Name())
		default:
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "0.log.old.gz")); err != nil {
		t.Errorf("a file that is not a rotated log was touched: %v", err)
	}
	if len(rotated) != maxFiles-1 {
		t.Fatalf("rotated files %q, want %d", rotated, maxFiles-1)
	}
	slices.Sort(rotated) // names sort in time order
	var texts []string
	for _, name := range append(rotated, "0.log") {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err != nil || fi.Size() > maxSize {
			t.Errorf("%s: %v, size over %d", name, err, maxSize)
		}
		for _, r := range parseFile(t, p) {
			texts = append(texts, r.text)
		}
	}
	if len(texts) == 0 || texts[len(texts)-1] != fmt.Sprintf("line %04d %s", lines-1, strings.Repeat("-", 30)) {
		t.Fatalf("the kept logs do not end with the last line: %q", texts[max(0, len(texts)-1):])
	}
	first, err := strconv.Atoi(strings.Fields(texts[0])[1])
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		if want := fmt.Sprintf("line %04d %s", first+i, strings.Repeat("-", 30)); text != want {
			t.Fatalf("record %d is %q, want %q: the kept logs have a gap", i, text, want)
		}
	}
}

// TestUnwritableFileDropsAndRecovers: while the log's directory is
// missing, the driver keeps reading (the container never blocks) and
// drops records; once the directory is back it writes again, and it
// reports the dropped records when it ends.
func TestUnwritableFileDropsAndRecovers(t *testing.T) {
	bin := buildDriver(t)
	dir := filepath.Join(t.TempDir(), "pod")
	path := filepath.Join(dir, "0.log")
	d := startDriver(t, bin, "log-driver", path)
	// More than a pipe holds: a driver that stopped reading would block
	// this write for good.
	big := bytes.Repeat([]byte("dropped line\n"), 20000)
	writeDone := make(chan error, 1)
	go func() { _, err := d.stdout.Write(big); writeDone <- err }()
	select {
	case err := <-writeDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the driver stopped reading while it cannot write")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; ; n++ {
		fmt.Fprintf(d.stdout, "kept %d\n", n)
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(" kept ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the driver did not write to the file once its directory was back")
		}
		time.Sleep(20 * time.Millisecond) // pacing the writer, not synchronising
	}
	d.wait(t)
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("dropped line")) {
		t.Error("records written while the file could not be opened reached it")
	}
	if !strings.Contains(d.errOut.String(), "could not be written") || !strings.Contains(d.errOut.String(), path) {
		t.Errorf("stderr %q: want the dropped records reported with the path", d.errOut)
	}
}

// TestStopOnSIGTERM: after SIGTERM the driver reads on until the streams
// end, and gives up after its grace when they do not.
func TestStopOnSIGTERM(t *testing.T) {
	bin := buildDriver(t)
	t.Run("streams end", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "0.log")
		d := startDriver(t, bin, "log-driver", path)
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(d.stdout, "after SIGTERM")
		d.wait(t)
		if got := byStream(parseFile(t, path), "stdout"); !slices.Equal(got, []string{"F after SIGTERM"}) {
			t.Fatalf("records %q", got)
		}
	})
	t.Run("streams stay open", func(t *testing.T) {
		d := startDriver(t, bin, "log-driver", filepath.Join(t.TempDir(), "0.log"))
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-d.done:
			d.done <- err
			if err == nil || !strings.Contains(d.errOut.String(), "stopped before the container's output ended") {
				t.Fatalf("exit %v, stderr %q", err, d.errOut)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the driver kept reading long after SIGTERM")
		}
	})
}

// TestBadArguments: wrong arguments end the driver before it says it is
// ready, with a message that names the argument.
func TestBadArguments(t *testing.T) {
	bin := buildDriver(t)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "needs the absolute path"},
		{[]string{"log-driver", "relative/0.log"}, "needs the absolute path"},
		{[]string{"log-driver", "/x/0.log", "--max-files", "0"}, `--max-files "0"`},
		{[]string{"log-driver", "/x/0.log", "--max-size", "-1"}, `--max-size "-1"`},
		{[]string{"log-driver", "/x/0.log", "--max-size", "10Mi"}, `--max-size "10Mi"`},
		{[]string{"log-driver", "/x/0.log", "--color", "yes"}, `unknown argument "--color"`},
		{[]string{"log-driver", "/x/0.log", "--partial-flush-ms", "soon"}, `--partial-flush-ms "soon"`},
		{[]string{"log-driver"}, `"log-driver" has no value`},
	} {
		var errOut bytes.Buffer
		cmd := exec.Command(bin, c.args...)
		cmd.Stderr = &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(errOut.String(), c.msg) {
			t.Errorf("args %q: %v, stderr %q; want exit 2 and %q", c.args, err, errOut.String(), c.msg)
		}
	}
}

// TestFlushesHeldText: text that waits for its newline is written as a
// partial record after --partial-flush-ms while the streams stay open (the
// shim keeps them open until the task is deleted), by the C driver and the
// Go one alike; the line goes on in the records after it.
func TestFlushesHeldText(t *testing.T) {
	bin := buildDriver(t)
	type running struct {
		stdout, stderr io.WriteCloser
		wait           func() error
	}
	start := map[string]func(t *testing.T, path string) running{
		"C": func(t *testing.T, path string) running {
			d := startDriver(t, bin, "log-driver", path, "--partial-flush-ms", "30")
			return running{d.stdout, d.stderr, func() error { d.wait(t); return nil }}
		},
		"Go": func(t *testing.T, path string) running {
			or, ow, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			er, ew, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- containerlog.RunDriver(context.Background(), or, er, func() error { return nil },
					containerlog.DriverOptions{Path: path, MaxFiles: 1, DrainGrace: time.Second, PartialFlush: 30 * time.Millisecond}, io.Discard)
			}()
			t.Cleanup(func() { ow.Close(); ew.Close() })
			return running{ow, ew, func() error { ow.Close(); ew.Close(); return <-done }}
		},
	}
	for _, name := range []string{"C", "Go"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			d := start[name](t, path)
			waitRecords := func(want ...string) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					b, _ := os.ReadFile(path)
					var got []string
					if len(b) > 0 && b[len(b)-1] == '\n' {
						got = byStream(parseFile(t, path), "stdout")
					}
					if slices.Equal(got, want) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("records %q, want %q", got, want)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			io.WriteString(d.stdout, "DONE")
			waitRecords("P DONE")
			io.WriteString(d.stdout, "more\r")
			waitRecords("P DONE", "P more")
			io.WriteString(d.stdout, "\nnext\n")
			waitRecords("P DONE", "P more", "F ", "F next")
			if err := d.wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSmall: the point of a C driver is its size per container.
func TestSmall(t *testing.T) {
	bin := buildDriver(t)
	path := filepath.Join(t.TempDir(), "0.log")
	d := startDriver(t, bin, "log-driver", path)
	fmt.Fprintln(d.stdout, strings.Repeat("w", 40000))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(" F ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if kib == 0 || kib > maxRSSKiB {
				t.Fatalf("RSS %d KiB, want under %d KiB", kib, maxRSSKiB)
			}
			t.Logf("RSS %d KiB", kib)
		}
	}
	d.wait(t)
}

// BenchmarkThroughput writes lines of 100 bytes through the C driver and,
// for comparison, through `minilet log-driver` (the Go writer), and
// reports the driver process's CPU per MB. Run with
//
//	go test -run '^$' -bench Throughput ./logdriver
func BenchmarkThroughput(b *testing.B) {
	line := []byte(strings.Repeat("x", 99) + "\n")
	chunk := bytes.Repeat(line, 640) // 64000 bytes
	const mb = 16
	drivers := map[string][]string{"c": {cbuild.ForTest(b, "logdriver.c", "minilet-log-driver")}}
	goBin := filepath.Join(b.TempDir(), "minilet")
	build := exec.Command("go", "build", "-o", goBin, "../cmd/minilet")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build minilet: %v\n%s", err, out)
	}
	drivers["go"] = []string{goBin}
	for _, name := range []string{"c", "go"} {
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			for range b.N {
				dir := b.TempDir()
				d := startDriver(b, drivers[name][0], "log-driver", filepath.Join(dir, "0.log"), "--max-size", "0")
				for written := 0; written < mb*1000*1000; written += len(chunk) {
					if _, err := d.stdout.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				d.wait(b)
				cpu += d.cmd.ProcessState.UserTime() + d.cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N)/mb, "cpu-ms/MB")
		})
	}
}

// TestStdinRelay: with --stdin and --attach the driver holds the stdin
// fifo's writing end (the shim's reader never sees end-of-file while no
// client is attached) and copies each attach client's input into it;
// with --stdin-once true, stdin closes when the first client leaves.
func TestStdinRelay(t *testing.T) {
	bin := buildDriver(t)
	for _, once := range []bool{false, true} {
		t.Run(fmt.Sprintf("once=%v", once), func(t *testing.T) {
			dir := t.TempDir()
			fifo, sock := filepath.Join(dir, "stdin"), filepath.Join(dir, "attach.sock")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			// The shim opens the reading end before it starts the driver.
			opened := make(chan *os.File, 1)
			go func() {
				f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
				if err != nil {
					t.Error(err)
				}
				opened <- f
			}()
			d := startDriver(t, bin, "log-driver", filepath.Join(dir, "0.log"), "--stdin", fifo, "--attach", sock,
				"--stdin-once", fmt.Sprint(once))
			var in *os.File
			select {
			case in = <-opened:
			case <-time.After(10 * time.Second):
				t.Fatal("the driver never opened the stdin fifo")
			}
			defer in.Close()
			got := make(chan string, 16)
			go func() {
				buf := make([]byte, 64)
				for {
					n, err := in.Read(buf)
					if n > 0 {
						got <- string(buf[:n])
					}
					if err != nil {
						close(got)
						return
					}
				}
			}()
			send := func(s string) {
				t.Helper()
				// The driver makes the socket once the shim's reader has
				// the fifo open.
				var c net.Conn
				var err error
				for deadline := time.Now().Add(10 * time.Second); ; {
					if c, err = net.Dial("unix", sock); err == nil || time.Now().After(deadline) {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.WriteString(c, s); err != nil {
					t.Fatal(err)
				}
				select {
				case g := <-got:
					if g != s {
						t.Fatalf("stdin read %q, want %q", g, s)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%q never reached stdin", s)
				}
				c.Close()
			}
			send("first\n")
			if once {
				select {
				case _, ok := <-got:
					if ok {
						t.Fatal("more input after the only client left")
					}
				case <-time.After(10 * time.Second):
					t.Fatal("stdin stayed open after the first client left (stdinOnce)")
				}
				if _, err := os.Stat(sock); !os.IsNotExist(err) {
					t.Errorf("the attach socket is still there: %v", err)
				}
			} else {
				send("second\n")
				select {
				case _, ok := <-got:
					if !ok {
						t.Fatal("stdin closed when a client left")
					}
				default:
				}
			}
			d.wait(t)
			if _, err := os.Stat(sock); !os.IsNotExist(err) {
				t.Errorf("the attach socket outlived the driver: %v", err)
			}
		})
	}
}
