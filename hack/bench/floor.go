package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/manifest"
	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/podhost"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
	rtcontainerd "github.com/minilet/minilet/pkg/runtime/containerd"
)

// Network of the floor's pods: a bridge and subnet of their own beside the
// daemon's, so the two never share an address pool.
const (
	floorNetwork = "minilet-bench-floor"
	floorBridge  = "mlbench1"
	floorSubnet  = "10.232.128.0/17"
)

// floor makes pods the way minilet does, but with nothing in between: the
// containerd client (pkg/runtime/containerd), CNI (pkg/network) and the
// exact specs of pkg/podsandbox, in its own containerd namespace. It is
// what a pod costs at the least: the baseline of each figure.
type floor struct {
	dir        string
	namespace  string
	cgroupRoot string
	rt         *rtcontainerd.Runtime
	net        *network.Manager
	host       podhost.Host
	pause      runtime.Image
	busybox    runtime.Image

	mu   sync.Mutex
	pods map[string]*floorPod // by pod ID: what cleanup must remove
}

// floorPod is one pod the floor made.
type floorPod struct {
	pod      *v1.Pod
	hash     string
	file     string
	podID    string
	paths    podsandbox.Paths
	netns    string
	pausePID uint32
	apps     []string // container IDs, in order
	appPIDs  []uint32
}

// floorTimes are the steps of one pod's start.
type floorTimes struct {
	total, cni, pause, app time.Duration
	end                    time.Time // the last app container's StartedAt
}

// newFloor connects to containerd in namespace, imports the images and
// loads the floor's CNI network. logDriver is "" (the shim writes the log
// file itself) or minilet's binary, to pay what minilet pays for logs.
func newFloor(ctx context.Context, dir, containerdAddr, namespace, logDriver string, busyboxTar, pauseTar string) (*floor, error) {
	f := &floor{dir: dir, namespace: namespace, cgroupRoot: "/minilet/" + namespace, pods: map[string]*floorPod{}}
	var err error
	f.rt, err = rtcontainerd.New(rtcontainerd.Options{Address: containerdAddr, Namespace: namespace,
		LogDriver: logDriver, LogMaxSize: 10 << 20, LogMaxFiles: 5}, zap.NewNop())
	if err != nil {
		return nil, err
	}
	for _, tar := range []string{busyboxTar, pauseTar} {
		r, err := os.Open(tar)
		if err != nil {
			return f, err
		}
		_, err = f.rt.ImportImages(ctx, r)
		r.Close()
		if err != nil {
			return f, err
		}
	}
	if f.pause, err = f.rt.EnsureImage(ctx, pauseImage, runtime.PullNever); err != nil {
		return f, err
	}
	if f.busybox, err = f.rt.EnsureImage(ctx, busyboxImage, runtime.PullNever); err != nil {
		return f, err
	}
	f.net, err = network.New(network.Config{
		ConfDir: filepath.Join(dir, "cni"), CacheDir: filepath.Join(dir, "root", "cni"),
		NetnsDir: filepath.Join(dir, "run", "netns"), NetworkName: floorNetwork,
		BridgeName: floorBridge, PodCIDR: floorSubnet,
	}, zap.NewNop())
	return f, err
}

// prepare makes the pod's host files (directories, /dev/shm, hosts,
// hostname, resolv.conf) ahead of the timed part: they are not containerd
// work. The pod's IP in /etc/hosts does not change any timing.
func (f *floor) prepare(mp manifest.Pod) (*floorPod, error) {
	p := mp.Pod
	fp := &floorPod{pod: p, hash: mp.Hash, file: mp.File, podID: podsandbox.PodID(p.UID)}
	fp.paths = podsandbox.NewPaths(filepath.Join(f.dir, "root"), filepath.Join(f.dir, "run"), filepath.Join(f.dir, "logs"), p)
	f.mu.Lock()
	f.pods[fp.podID] = fp
	f.mu.Unlock()
	if err := f.host.Prepare(p, fp.paths); err != nil {
		return fp, err
	}
	return fp, f.host.WriteFiles(p, fp.paths, []string{"10.232.128.1"})
}

// start makes the pod, one step after another: netns + CNI ADD, pause
// create + start, then each app container create + start. The total ends
// at the last app container's StartedAt label, as minilet's figure does.
func (f *floor) start(ctx context.Context, fp *floorPod) (floorTimes, error) {
	var t floorTimes
	p := fp.pod
	extra := map[string]string{podsandbox.LabelPodHash: fp.hash, podsandbox.LabelManifest: fp.file}
	cgroup := f.cgroupRoot + "/pod" + fp.podID
	t0 := time.Now()

	netns, err := f.net.CreateNetns(fp.podID)
	if err != nil {
		return t, err
	}
	fp.netns = netns
	ips, err := f.net.Attach(ctx, netns, network.Attachment{PodID: fp.podID, Namespace: p.Namespace, Name: p.Name, UID: string(p.UID)})
	if err != nil {
		return t, err
	}
	t1 := time.Now()
	t.cni = t1.Sub(t0)

	sb := podsandbox.SandboxSpec(podsandbox.SandboxParams{Pod: p, PodID: fp.podID, Token: floorSandboxToken, Image: f.pause,
		NetnsPath: netns, CgroupParent: cgroup, Extra: extra})
	if err := f.rt.CreateContainer(ctx, sb); err != nil {
		return t, err
	}
	if fp.pausePID, err = f.rt.StartContainer(ctx, sb.ID); err != nil {
		return t, err
	}
	t2 := time.Now()
	t.pause = t2.Sub(t1)

	podIPs := make([]string, len(ips))
	for i, ip := range ips {
		podIPs[i] = ip.String()
	}
	for _, c := range appContainers(p) {
		spec, err := podsandbox.ContainerSpecFor(podsandbox.ContainerParams{Pod: p, PodID: fp.podID, Container: c,
			Type: podsandbox.TypeApp, Image: f.busybox, SandboxPID: fp.pausePID, PodIPs: podIPs,
			Paths: fp.paths, CgroupParent: cgroup, Extra: extra})
		if err != nil {
			return t, err
		}
		if err := f.rt.CreateContainer(ctx, spec); err != nil {
			return t, err
		}
		fp.apps = append(fp.apps, spec.ID)
		pid, err := f.rt.StartContainer(ctx, spec.ID)
		if err != nil {
			return t, err
		}
		fp.appPIDs = append(fp.appPIDs, pid)
	}
	t.app = time.Since(t2)
	st, err := f.rt.ContainerStatus(ctx, fp.apps[len(fp.apps)-1])
	if err != nil {
		return t, err
	}
	if st.StartedAt.IsZero() {
		return t, fmt.Errorf("container %s has no start time", st.ID)
	}
	t.end = st.StartedAt
	t.total = st.StartedAt.Sub(t0)
	return t, nil
}

// floorSandboxToken names the floor's one sandbox per pod.
const floorSandboxToken = "floor"

// remove tears the pod down as minilet's teardown does: SIGTERM and wait
// for each app container, stop the pause, remove the containers and their
// snapshots, CNI DEL, remove the netns. It returns the time that took; the
// host files are removed after, untimed.
func (f *floor) remove(ctx context.Context, fp *floorPod) (time.Duration, error) {
	t0 := time.Now()
	var errs []error
	for _, id := range fp.apps {
		errs = append(errs, f.rt.StopContainer(ctx, id, "SIGTERM", time.Duration(*fp.pod.Spec.TerminationGracePeriodSeconds)*time.Second))
	}
	sb := podsandbox.SandboxID(fp.podID, floorSandboxToken)
	errs = append(errs, f.rt.StopContainer(ctx, sb, "", 2*time.Second))
	for _, id := range fp.apps {
		errs = append(errs, f.rt.RemoveContainer(ctx, id))
	}
	errs = append(errs, f.rt.RemoveContainer(ctx, sb))
	p := fp.pod
	errs = append(errs, f.net.Detach(ctx, fp.netns, network.Attachment{PodID: fp.podID, Namespace: p.Namespace, Name: p.Name, UID: string(p.UID)}),
		f.net.RemoveNetns(fp.podID))
	took := time.Since(t0)
	errs = append(errs, f.host.Teardown(fp.paths), f.host.RemoveLogs(fp.paths), podhost.RemoveCgroup(f.cgroupRoot+"/pod"+fp.podID))
	if err := errors.Join(errs...); err != nil {
		return took, fmt.Errorf("remove floor pod %s: %w", p.Name, err)
	}
	f.mu.Lock()
	delete(f.pods, fp.podID)
	f.mu.Unlock()
	return took, nil
}

// removeAll removes every pod the floor still has, in parallel.
func (f *floor) removeAll(ctx context.Context) error {
	f.mu.Lock()
	var pods []*floorPod
	for _, fp := range f.pods {
		pods = append(pods, fp)
	}
	f.mu.Unlock()
	return inParallel(len(pods), func(i int) error {
		_, err := f.remove(ctx, pods[i])
		return err
	})
}

func (f *floor) close() {
	if f.rt != nil {
		f.rt.Close()
	}
}

// restartApp is the floor of a liveness restart: the same kill and start
// minilet does, done directly: SIGKILL the pod's first app container, wait
// for it to exit, then create and start attempt 1 in the same sandbox. It
// returns the time from the kill to the new container's StartedAt.
func (f *floor) restartApp(ctx context.Context, fp *floorPod) (time.Duration, error) {
	p := fp.pod
	c := appContainers(p)[0]
	extra := map[string]string{podsandbox.LabelPodHash: fp.hash, podsandbox.LabelManifest: fp.file}
	t0 := time.Now()
	if err := f.rt.StopContainer(ctx, fp.apps[0], "SIGKILL", 0); err != nil {
		return 0, err
	}
	spec, err := podsandbox.ContainerSpecFor(podsandbox.ContainerParams{Pod: p, PodID: fp.podID, Container: c,
		Type: podsandbox.TypeApp, RestartCount: 1, Image: f.busybox, SandboxPID: fp.pausePID, PodIPs: []string{"10.232.128.1"},
		Paths: fp.paths, CgroupParent: f.cgroupRoot + "/pod" + fp.podID, Extra: extra})
	if err != nil {
		return 0, err
	}
	if err := f.rt.CreateContainer(ctx, spec); err != nil {
		return 0, err
	}
	fp.apps = append(fp.apps, spec.ID)
	if _, err := f.rt.StartContainer(ctx, spec.ID); err != nil {
		return 0, err
	}
	st, err := f.rt.ContainerStatus(ctx, spec.ID)
	if err != nil {
		return 0, err
	}
	return st.StartedAt.Sub(t0), nil
}
