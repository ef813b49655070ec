// Command bench measures minilet on a real containerd, beside a floor it
// measures in the same run: the same pods made directly through the
// containerd Go client (pkg/runtime/containerd), CNI (pkg/network) and
// minilet's own specs (pkg/podsandbox), pause plus app containers joining
// its namespaces, one shim per pod. It prints each figure as median, min
// and max over several runs, with the ratio minilet/floor, and writes them
// as JSON so runs can be compared. It asserts nothing about speed.
//
//	sudo make bench                       # go run ./hack/bench
//	sudo go run ./hack/bench -runs 3 -probes=false -json /tmp/b.json
//	go run ./hack/bench -compare old.json new.json   # medians side by side
//
// Like the integration tests it starts its own containerd (own socket,
// root and state in a temporary directory), builds minilet and the pause
// program, imports a busybox image built from /bin/busybox, and runs the
// daemon with its own directories, containerd namespace and CNI network
// (bridge mlbench0, network minilet-bench, 10.232.0.0/17). The floor uses
// another namespace and network (mlbench1, minilet-bench-floor,
// 10.232.128.0/17). Everything is removed at the end, also after a failure
// or Ctrl-C. See docs/bench.md for what each figure means.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// bench holds the run's processes and results.
type bench struct {
	runs        int
	pods        int
	probeWindow time.Duration
	keep        bool
	profileDir  string // "": no profiles
	daemonEnv   string
	daemonArgs  string

	dir            string
	bins           binaries
	containerd     *containerdProc // nil with -outside
	containerdAddr string
	attached       bool // -outside: measure the host's own minilet
	outside        outsideConfig
	d              *daemon
	f              *floor     // the floor with minilet's choices
	lean           *leanFloor // the leanest floor: plain containerd client calls
	choices        *leanFloor // the same, with minilet's choices (seccomp, log driver)
	clock          *startClock
	settler        *settler
	settle         time.Duration
	burstPods      int
	burstRuns      int
	leanWith       map[string]bool
	logLevel       string
	report         *Report
}

// figureSets are the groups of figures -only can pick.
var figureSets = []string{"pod1", "pod3", "many", "burst", "deploy", "liveness", "probes"}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		runs        = flag.Int("runs", 5, "runs per figure")
		pods        = flag.Int("pods", 30, "pods of the \"many pods\" figures")
		jsonPath    = flag.String("json", "bench-results.json", "write the results here as JSON (\"\": do not)")
		probes      = flag.Bool("probes", true, "measure the probe cost (two 20s windows, about a minute more)")
		probeWindow = flag.Duration("probe-window", 20*time.Second, "CPU measuring window of the probe figure")
		settlePause = flag.Duration("settle", 3*time.Second, "pause before each timed start, once containerd's garbage collection of the previous run is done")
		burstPods   = flag.Int("burst-pods", 100, "pods of the burst figure (per-pod latency percentiles)")
		burstRuns   = flag.Int("burst-runs", 3, "runs of the burst figure")
		leanWith    = flag.String("lean-with", "", "experiments: add choices of minilet's to the lean floor, comma-separated: driver, seccomp, seccomp-pause, portmap, label (see docs/bench.md)")
		floorLogs   = flag.String("floor-logs", "driver", "container output of the pods of the floor with minilet's choices: \"driver\" (minilet's log driver, as minilet's containers log) or \"file\" (the shim writes the file, as the lean floor's) or the absolute path of another logging binary")
		only        = flag.String("only", "", "comma-separated figure groups to run ("+strings.Join(figureSets, ",")+"); default all")
		logLevel    = flag.String("daemon-log-level", "info", "the daemon's --log-level (debug logs each step of every pod, for tracing a burst; costs some CPU)")
		keep        = flag.Bool("keep", false, "keep the work directory (logs of containerd and minilet)")
		daemonArgs  = flag.String("daemon-args", "", "space-separated flags added to the daemon's command line (e.g. \"--max-parallel-pod-starts 2\"), for experiments; recorded in the results")
		daemonEnv   = flag.String("daemon-env", "", "space-separated KEY=VALUE pairs added to the daemon's environment (e.g. \"GOGC=50 GOMAXPROCS=1\"), for experiments; recorded in the results")
		profileDir  = flag.String("profile", "", "directory to write the daemon's pprof profiles to (heap when idle and with pods, goroutines and CPU over the probe window); runs the daemon with --pprof")
		outside     = flag.Bool("outside", false, "measure the minilet already running on this host (make quickstart) from outside: manifest files in -outside-manifests and containerd's events, beside the floors on the same containerd; runs pod1, pod3, many and burst")
		oc          = defaultOutside()
		compare     = flag.Bool("compare", false, "compare two JSON results given as arguments (old new) and exit; runs nothing")
	)
	flag.StringVar(&oc.containerd, "outside-containerd", oc.containerd, "with -outside: containerd's socket")
	flag.StringVar(&oc.root, "outside-containerd-root", oc.root, "with -outside: containerd's root directory")
	flag.StringVar(&oc.manifests, "outside-manifests", oc.manifests, "with -outside: minilet's manifest directory")
	flag.StringVar(&oc.namespace, "outside-namespace", oc.namespace, "with -outside: minilet's containerd namespace")
	flag.StringVar(&oc.netnsDir, "outside-netns-dir", oc.netnsDir, "with -outside: minilet's netns directory")
	flag.StringVar(&oc.metrics, "outside-metrics", "", "with -outside: minilet's --metrics-address, if it runs with --pprof, for -profile")
	flag.StringVar(&oc.log, "outside-log", "", "with -outside: minilet's log file, if it logs JSON (--log-format json), to trace each pod's phases")
	flag.Parse()
	if *compare {
		if flag.NArg() != 2 {
			fmt.Fprintln(os.Stderr, "bench: -compare OLD.json NEW.json")
			return 2
		}
		if err := compareReports(os.Stdout, flag.Arg(0), flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if *runs < 1 || *pods < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs and -pods must be at least 1")
		return 2
	}
	if *floorLogs != "file" && *floorLogs != "driver" && !filepath.IsAbs(*floorLogs) {
		fmt.Fprintln(os.Stderr, "bench: -floor-logs is file, driver or the absolute path of a logging binary")
		return 2
	}
	sets := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		known := false
		for _, k := range figureSets {
			known = known || k == s
		}
		if !known {
			fmt.Fprintf(os.Stderr, "bench: unknown figure group %q (want %s)\n", s, strings.Join(figureSets, ","))
			return 2
		}
		sets[s] = true
	}
	want := func(s string) bool {
		if s == "probes" && !*probes {
			return false
		}
		if *outside && !outsideSets[s] {
			return false
		}
		return len(sets) == 0 || sets[s]
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	b := &bench{runs: *runs, pods: *pods, settle: *settlePause, burstPods: *burstPods, burstRuns: *burstRuns, logLevel: *logLevel, attached: *outside, outside: oc, probeWindow: *probeWindow, keep: *keep, profileDir: *profileDir, daemonEnv: *daemonEnv, daemonArgs: *daemonArgs,
		report: &Report{Started: time.Now(), Config: Config{Runs: *runs, Pods: *pods, Probes: want("probes"),
			ProbeWindowSec: int(probeWindow.Seconds()), FloorLogs: *floorLogs, DaemonEnv: *daemonEnv, DaemonArgs: *daemonArgs}}}
	defer b.cleanup()

	b.leanWith = map[string]bool{}
	for _, w := range strings.Split(*leanWith, ",") {
		switch w = strings.TrimSpace(w); w {
		case "":
		case withDriver, withSeccomp, withSeccompPause, withPortmap, withLabel:
			b.leanWith[w] = true
		default:
			fmt.Fprintf(os.Stderr, "bench: -lean-with: unknown choice %q (want driver, seccomp, seccomp-pause, portmap, label)\n", w)
			return 2
		}
	}
	b.report.Config.LeanWith = *leanWith
	if err := b.setup(ctx, *floorLogs); err != nil {
		fmt.Fprintln(os.Stderr, "bench: setup:", err)
		return 1
	}
	steps := []struct {
		set string
		fn  func(context.Context) error
	}{
		{"pod1", b.figOnePod},
		{"pod3", b.figThreeContainers},
		{"many", b.figManyPods},
		{"burst", b.figBurst},
		{"deploy", b.figDeployment},
		{"liveness", b.figLiveness},
		{"probes", b.figProbes},
	}
	failed := false
	for _, s := range steps {
		if !want(s.set) {
			continue
		}
		if err := s.fn(ctx); err != nil {
			failed = true
			msg := fmt.Sprintf("%s: %v", s.set, err)
			b.report.Errors = append(b.report.Errors, msg)
			b.logf("FAILED %s", msg)
			if ctx.Err() != nil || !b.d.Running() {
				break
			}
			if err := b.reset(ctx); err != nil {
				b.logf("cannot clean up after %s: %v", s.set, err)
				break
			}
		}
	}
	b.report.Seconds = time.Since(b.report.Started).Seconds()
	b.report.printTable(os.Stdout)
	if *jsonPath != "" {
		if err := b.report.writeJSON(*jsonPath); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			failed = true
		} else {
			fmt.Printf("\nresults written to %s (%.0f s)\n", *jsonPath, b.report.Seconds)
		}
	}
	if failed {
		return 1
	}
	return 0
}

// setup builds the binaries and images, starts containerd, the floor and
// the daemon.
func (b *bench) setup(ctx context.Context, floorLogs string) error {
	if err := checkTools(); err != nil {
		return err
	}
	repo, err := findRepo()
	if err != nil {
		return err
	}
	if b.attached {
		if b.d, err = attachDaemon(b.outside); err != nil {
			return err
		}
	}
	if l := leftovers(); len(l) > 0 {
		b.warnf("a previous bench left %s; removing", strings.Join(l, ", "))
		sweepHost(nil, b)
	}
	b.dir, err = os.MkdirTemp("", "minilet-bench-")
	if err != nil {
		return err
	}
	version := gitVersion(repo)
	b.report.Config.MiniletVersion = version
	b.logf("building minilet %s and pause in %s", version, b.dir)
	b.bins, err = buildBinaries(repo, filepath.Join(b.dir, "bin"), version)
	if err != nil {
		return err
	}
	busyboxTar, pauseTar, err := writeImages(b.dir, b.bins.pause)
	if err != nil {
		return err
	}
	containerdRoot := b.outside.root
	if b.attached {
		b.containerdAddr = b.outside.containerd
		b.report.Machine = describeMachine(firstContainerd()) // the host's: not "other load"
		b.report.Config.Outside = fmt.Sprintf("minilet pid %d, manifests %s, containerd %s, namespace %s", b.d.PID(), b.outside.manifests, b.outside.containerd, b.outside.namespace)
	} else {
		b.containerd, err = startContainerd(filepath.Join(b.dir, "containerd"))
		if err != nil {
			return err
		}
		b.containerdAddr, containerdRoot = b.containerd.address, filepath.Join(b.containerd.Dir, "root")
		b.report.Machine = describeMachine(b.containerd.Pid())
	}
	if b.report.Machine.OtherLoad != "" {
		b.logf("other load: %s", b.report.Machine.OtherLoad)
	}
	ns := fmt.Sprintf("minilet-bench-%d", os.Getpid())
	logDriver := ""
	switch {
	case floorLogs == "driver":
		logDriver = b.bins.logDriver
	case filepath.IsAbs(floorLogs):
		logDriver = floorLogs // another logging binary, to compare drivers
	}
	if b.clock, err = newStartClock(ctx, b.containerdAddr); err != nil {
		return err
	}
	if b.settler, err = newSettler(b.containerdAddr, containerdRoot, b.settle); err != nil {
		return err
	}
	b.lean, err = newLeanFloor(ctx, filepath.Join(b.dir, "lean"), b.containerdAddr, ns+"-lean", leanNetPlain,
		busyboxTar, pauseTar, b.leanWith, b.bins.logDriver)
	if err != nil {
		return fmt.Errorf("lean floor: %w", err)
	}
	b.choices, err = newLeanFloor(ctx, filepath.Join(b.dir, "choices"), b.containerdAddr, ns+"-choices", leanNetChoices,
		busyboxTar, pauseTar, miniletChoices, b.bins.logDriver)
	if err != nil {
		return fmt.Errorf("lean floor with minilet's choices: %w", err)
	}
	b.f, err = newFloor(ctx, filepath.Join(b.dir, "floor"), b.containerdAddr, ns+"-floor", logDriver, busyboxTar, pauseTar)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	if b.attached {
		// The pods' image, in the host minilet's namespace.
		r, err := os.Open(busyboxTar)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = b.d.rt.ImportImages(ctx, r)
		return err
	}
	b.d, err = newDaemon(b.bins.minilet, b.bins.pause, filepath.Join(b.dir, "daemon"), b.containerdAddr, ns, b.logLevel)
	if err != nil {
		return err
	}
	if err := b.d.ImportImage(busyboxTar); err != nil {
		return err
	}
	if b.profileDir != "" {
		if err := os.MkdirAll(b.profileDir, 0o755); err != nil {
			return err
		}
		b.d.Args = append(b.d.Args, "--pprof")
	}
	b.d.Env = strings.Fields(b.daemonEnv)
	b.d.Args = append(b.d.Args, strings.Fields(b.daemonArgs)...)
	b.logf("starting minilet (log: %s)", b.d.logPath)
	if err := b.d.start(ctx); err != nil {
		return err
	}
	return b.figIdleRSS(ctx)
}

// namespaces are the bench's containerd namespaces (for cgroup cleanup).
func (b *bench) namespaces() []string {
	var out []string
	if b.d != nil && !b.d.outside() {
		out = append(out, b.d.Namespace)
	}
	if b.f != nil {
		out = append(out, b.f.namespace)
	}
	for _, l := range []*leanFloor{b.lean, b.choices} {
		if l != nil {
			out = append(out, l.namespace)
		}
	}
	return out
}

// reset removes every pod of the daemon and of the floor, after a figure
// failed, so the next one starts from nothing.
func (b *bench) reset(ctx context.Context) error {
	b.removeBenchManifests()
	err := b.d.waitGone(ctx, 90*time.Second)
	if ferr := b.f.removeAll(ctx); ferr != nil && err == nil {
		err = ferr
	}
	for _, l := range []*leanFloor{b.lean, b.choices} {
		if lerr := l.removeAll(ctx); lerr != nil && err == nil {
			err = lerr
		}
	}
	return err
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (b *bench) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.report.Warnings = append(b.report.Warnings, msg)
	b.logf("warning: %s", msg)
}
