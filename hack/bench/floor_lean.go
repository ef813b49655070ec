package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/pkg/netns"
	gocni "github.com/containerd/go-cni"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minilet/minilet/pkg/containerlog"
)

// leanNet is the network of one lean floor's pods: a bridge and subnet of
// their own.
type leanNet struct{ name, bridge, subnet string }

var (
	leanNetPlain   = leanNet{"minilet-bench-lean", "mlbench2", "10.233.0.0/17"}
	leanNetChoices = leanNet{"minilet-bench-choices", "mlbench3", "10.233.128.0/17"}
)

// Choices of minilet's a lean floor can add (-lean-with), to weigh each.
const (
	withDriver       = "driver"        // output through minilet's log driver
	withSeccomp      = "seccomp"       // containerd's default profile on app containers (minilet's RuntimeDefault)
	withSeccompPause = "seccomp-pause" // the same on the pause container
	withPortmap      = "portmap"       // the portmap plugin in the CNI chain
	withLabel        = "label"         // a container label written after each start
)

// minilet's choices: what the second lean floor adds, so a figure can be
// read with and without them.
var miniletChoices = map[string]bool{withDriver: true, withSeccomp: true}

// leanFloor is the least a pod costs in containerd: plain containerd Go
// client calls with containerd's default spec (no seccomp profile, no
// mounts of ours), a pause and app containers joining its network, IPC and
// UTS namespaces, all in one shim (the runc v2 shim group), a netns made
// with containerd's own package, CNI ADD through go-cni with a bridge and
// host-local IPAM, and each container's output captured by the shim into a
// file. None of minilet's packages is used, so no choice of minilet's is
// in it.
type leanFloor struct {
	dir       string
	namespace string
	client    *containerd.Client
	cni       gocni.CNI
	pause     containerd.Image
	busybox   containerd.Image

	// with adds choices of minilet's (withDriver, ...).
	with      map[string]bool
	logDriver string

	mu   sync.Mutex
	pods map[string]*leanPod
}

// leanPod is one pod the lean floor made.
type leanPod struct {
	name  string
	netns *netns.NetNS
	ids   []string // pause first
}

// leanPauseSuffix ends the ID of a lean pod's pause container.
const leanPauseSuffix = "-pause"

func newLeanFloor(ctx context.Context, dir, address, namespace string, net leanNet, busyboxTar, pauseTar string, with map[string]bool, logDriver string) (*leanFloor, error) {
	l := &leanFloor{dir: dir, namespace: namespace, pods: map[string]*leanPod{}, with: with, logDriver: logDriver}
	for _, d := range []string{"netns", "logs", "ipam"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	var err error
	l.client, err = containerd.New(address, containerd.WithDefaultNamespace(namespace))
	if err != nil {
		return nil, err
	}
	ctx = namespaces.WithNamespace(ctx, namespace)
	for _, tar := range []string{busyboxTar, pauseTar} {
		if err := l.importImage(ctx, tar); err != nil {
			return l, err
		}
	}
	if l.busybox, err = l.client.GetImage(ctx, busyboxImage); err != nil {
		return l, err
	}
	if l.pause, err = l.client.GetImage(ctx, pauseImage); err != nil {
		return l, err
	}
	portmap := ""
	if with[withPortmap] {
		portmap = `, {"type": "portmap", "capabilities": {"portMappings": true}}`
	}
	conf := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": %q, "plugins": [{"type": "bridge", "bridge": %q,
 "isGateway": true, "ipMasq": true, "hairpinMode": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}}%s]}`,
		net.name, net.bridge, net.subnet, filepath.Join(dir, "ipam"), portmap)
	l.cni, err = gocni.New(gocni.WithPluginDir([]string{"/usr/lib/cni"}), gocni.WithMinNetworkCount(1))
	if err != nil {
		return l, err
	}
	return l, l.cni.Load(gocni.WithLoNetwork, gocni.WithConfListBytes([]byte(conf)))
}

func (l *leanFloor) importImage(ctx context.Context, tar string) error {
	r, err := os.Open(tar)
	if err != nil {
		return err
	}
	defer r.Close()
	imgs, err := l.client.Import(ctx, r)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if err := containerd.NewImage(l.client, img).Unpack(ctx, ""); err != nil {
			return err
		}
	}
	return nil
}

// leanTimes are the parts of one lean pod's start.
type leanTimes struct{ cni, pause, apps time.Duration }

// start makes one pod with apps app containers, each step after the
// other: netns, CNI ADD, pause create + start, then each app create +
// start. The figures end on the apps' TaskStart events.
func (l *leanFloor) start(ctx context.Context, name string, apps int) (leanTimes, error) {
	var lt leanTimes
	t0 := time.Now()
	ctx = namespaces.WithNamespace(ctx, l.namespace)
	lp := &leanPod{name: name}
	l.mu.Lock()
	l.pods[name] = lp
	l.mu.Unlock()
	ns, err := netns.NewNetNS(filepath.Join(l.dir, "netns"))
	if err != nil {
		return lt, err
	}
	lp.netns = ns
	if _, err := l.cni.Setup(ctx, name, ns.GetPath()); err != nil {
		return lt, fmt.Errorf("CNI ADD: %w", err)
	}
	lt.cni = time.Since(t0)
	group := oci.WithAnnotations(map[string]string{"io.containerd.runc.v2.group": name + leanPauseSuffix})
	pauseID := name + leanPauseSuffix
	pid, err := l.run(ctx, lp, pauseID, l.pause, "", l.with[withSeccompPause], oci.WithImageConfig(l.pause), group,
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: ns.GetPath()}))
	if err != nil {
		return lt, err
	}
	lt.pause = time.Since(t0) - lt.cni
	for i := 0; i < apps; i++ {
		id := fmt.Sprintf("%s-app%d", name, i)
		join := func(t specs.LinuxNamespaceType, n string) oci.SpecOpts {
			return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: t, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, n)})
		}
		if _, err := l.run(ctx, lp, id, l.busybox, filepath.Join(l.dir, "logs", id+".log"), l.with[withSeccomp],
			oci.WithImageConfig(l.busybox), oci.WithProcessArgs("sh", "-c", stopOnTerm), group,
			join(specs.NetworkNamespace, "net"), join(specs.IPCNamespace, "ipc"), join(specs.UTSNamespace, "uts")); err != nil {
			return lt, err
		}
	}
	lt.apps = time.Since(t0) - lt.cni - lt.pause
	return lt, nil
}

// run creates and starts one container; logPath "" discards its output.
// seccompOn adds containerd's default seccomp profile.
func (l *leanFloor) run(ctx context.Context, lp *leanPod, id string, img containerd.Image, logPath string, seccompOn bool, opts ...oci.SpecOpts) (uint32, error) {
	if seccompOn {
		opts = append(opts, seccomp.WithDefaultProfile())
	}
	c, err := l.client.NewContainer(ctx, id, containerd.WithImage(img), containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(opts...))
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", id, err)
	}
	lp.ids = append(lp.ids, id)
	creator := cio.NullIO
	if logPath != "" {
		creator = cio.LogFile(logPath)
		if l.with[withDriver] {
			creator = cio.BinaryIO(l.logDriver, containerlog.DriverArgs(logPath, 10<<20, 5, containerlog.Stdin{}))
		}
	}
	t, err := c.NewTask(ctx, creator)
	if err != nil {
		return 0, fmt.Errorf("create task %s: %w", id, err)
	}
	if err := t.Start(ctx); err != nil {
		return 0, fmt.Errorf("start %s: %w", id, err)
	}
	if l.with[withLabel] {
		if _, err := c.SetLabels(ctx, map[string]string{"started-at": time.Now().UTC().Format(time.RFC3339Nano)}); err != nil {
			return 0, err
		}
	}
	return t.Pid(), nil
}

// remove tears one pod down: SIGTERM each app and wait for its exit, kill
// the pause, delete tasks and containers with their snapshots, CNI DEL,
// remove the netns.
func (l *leanFloor) remove(ctx context.Context, name string) error {
	ctx = namespaces.WithNamespace(ctx, l.namespace)
	l.mu.Lock()
	lp := l.pods[name]
	l.mu.Unlock()
	if lp == nil {
		return nil
	}
	var errs []error
	ids := append([]string(nil), lp.ids...)
	for i := len(ids) - 1; i >= 0; i-- { // apps first, the pause last
		errs = append(errs, l.stop(ctx, ids[i]))
	}
	if lp.netns != nil {
		errs = append(errs, l.cni.Remove(ctx, name, lp.netns.GetPath()), lp.netns.Remove())
	}
	for _, id := range ids {
		_ = os.Remove(filepath.Join(l.dir, "logs", id+".log"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove lean pod %s: %w", name, err)
	}
	l.mu.Lock()
	delete(l.pods, name)
	l.mu.Unlock()
	return nil
}

// stop ends one container's task (SIGTERM, SIGKILL after 30 s) and
// deletes it and its snapshot.
func (l *leanFloor) stop(ctx context.Context, id string) error {
	c, err := l.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if t, err := c.Task(ctx, nil); err == nil {
		sig := syscall.SIGTERM
		if strings.HasSuffix(id, leanPauseSuffix) {
			sig = syscall.SIGKILL
		}
		exit, err := t.Wait(ctx)
		if err != nil {
			return err
		}
		if err := t.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		select {
		case <-exit:
		case <-time.After(30 * time.Second):
			_ = t.Kill(ctx, syscall.SIGKILL)
			<-exit
		}
		if _, err := t.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	return c.Delete(ctx, containerd.WithSnapshotCleanup)
}

// removeAll removes every pod of the lean floor, side by side.
func (l *leanFloor) removeAll(ctx context.Context) error {
	l.mu.Lock()
	var names []string
	for n := range l.pods {
		names = append(names, n)
	}
	l.mu.Unlock()
	return inParallel(len(names), func(i int) error { return l.remove(ctx, names[i]) })
}

func (l *leanFloor) close() {
	if l != nil && l.client != nil {
		l.client.Close()
	}
}

// isPause tells the pause containers of minilet and of both floors from
// the app containers, by ID.
func isPause(id string) bool {
	return strings.HasSuffix(id, "-pod") || strings.Contains(id, "-pod.") || strings.HasSuffix(id, leanPauseSuffix)
}

func isApp(id string) bool { return !isPause(id) }

// pausePIDs are the PIDs of the lean pods' pause processes.
func (l *leanFloor) pausePIDs(ctx context.Context) []int {
	ctx = namespaces.WithNamespace(ctx, l.namespace)
	l.mu.Lock()
	var ids []string
	for _, lp := range l.pods {
		if len(lp.ids) > 0 {
			ids = append(ids, lp.ids[0])
		}
	}
	l.mu.Unlock()
	var out []int
	for _, id := range ids {
		if t, err := l.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: id}); err == nil {
			out = append(out, int(t.Process.Pid))
		}
	}
	return out
}
