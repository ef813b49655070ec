package statssummary

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/minilet/minilet/pkg/eviction"
)

const podNetDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    5000      50    1    0    0     0          0         0     7000      70    2    0    0     0       0          0
`

var (
	bootTime  = time.Unix(1700000000, 0)
	podStart  = time.Unix(1796399000, 0)
	appStart  = time.Unix(1796399100, 0)
	sideStart = time.Unix(1796399200, 0)
	t0        = time.Unix(1796400000, 0)
	rootFs    = FsInfo{CapacityBytes: 100e9, AvailableBytes: 60e9, UsedBytes: 40e9, Inodes: 1e6, InodesFree: 9e5}
	imageFs   = FsInfo{CapacityBytes: 500e9, AvailableBytes: 400e9, UsedBytes: 100e9, Inodes: 3e7, InodesFree: 2e7}
	logFs     = FsInfo{CapacityBytes: 200e9, AvailableBytes: 150e9, UsedBytes: 50e9, Inodes: 2e6, InodesFree: 1e6}
)

// fixture is a node running the pod team/web (containers app and side
// running, gone stopped) and the pod team/stopped, whose cgroup is gone.
type fixture struct {
	h   *Handler
	now time.Time
	cg  fakeCgroups
}

func newFixture(t *testing.T) *fixture {
	proc, logs := t.TempDir(), t.TempDir()
	writeFiles(t, proc, map[string]string{
		"stat":                   "cpu  1 2 3 4\nbtime 1700000000\nprocesses 9\n",
		"meminfo":                "MemTotal:        4194304 kB\nMemFree:  1000 kB\n",
		"sys/kernel/pid_max":     "4194304\n",
		"sys/kernel/threads-max": "126000\n",
		"loadavg":                "0.50 0.40 0.30 2/300 1234\n",
		"net/dev":                hostNetDev,
		"4242/net/dev":           podNetDev,
	})
	webLogs := filepath.Join(logs, "team_web_uid-1")
	writeFiles(t, webLogs, map[string]string{"app/0.log": "0123456789"})
	web := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web", UID: "uid-1"},
		Status: v1.PodStatus{
			StartTime: &metav1.Time{Time: podStart},
			ContainerStatuses: []v1.ContainerStatus{
				{Name: "app", State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(appStart)}}},
				{Name: "side", State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(sideStart)}}},
			},
		},
	}
	stopped := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "stopped", UID: "uid-2"}}
	refs := []eviction.PodRef{
		{Pod: web, CgroupParent: "/minilet/p1", LogDir: webLogs, Containers: map[string]string{"app": "c1", "gone": "c2", "side": "c3"}},
		{Pod: stopped, CgroupParent: "/minilet/p2", Containers: map[string]string{"x": "c9"}},
	}
	f := &fixture{now: t0, cg: fakeCgroups{
		"/":              {cpu: 100e9, workingSet: 1 << 30, usage: 2 << 30, rss: 512 << 20, faults: 1000, major: 10},
		"/minilet/p1":    {cpu: 3e9, workingSet: 2000, usage: 3000, rss: 1500, faults: 50, major: 2, procs: 7},
		"/minilet/p1/c1": {cpu: 2e9, workingSet: 1500, usage: 2500, rss: 1000, faults: 40, major: 1, procs: 5},
		"/minilet/p1/c3": {cpu: 1e9, workingSet: 400, usage: 450, rss: 300, faults: 9, major: 0, procs: 2},
	}}
	fs := fakeStatfs{"/var/lib/minilet": rootFs, "/var/lib/containerd": imageFs, webLogs: logFs}
	f.h = New(Config{
		NodeName: "node1",
		Pods:     func() []eviction.PodRef { return refs },
		Cgroups:  f.cg,
		Name:     func(p *v1.Pod) string { return p.Name + "-node1" },
		PodPID: func(p *v1.Pod) uint32 {
			if p.Name == "web" {
				return 4242
			}
			return 0
		},
		Statfs:     fs.statfs,
		RootDir:    "/var/lib/minilet",
		ImageFsDir: "/var/lib/containerd",
		ProcRoot:   proc,
		Now:        func() time.Time { return f.now },
	})
	return f
}

// addCPU adds d of CPU time to every cgroup.
func (f *fixture) addCPU(d time.Duration) {
	for k, u := range f.cg {
		u.cpu += int64(d)
		f.cg[k] = u
	}
}

// rates are the expected usageNanoCores (nil: none yet).
type rates struct{ node, pod, app, side *uint64 }

// want is the fixture's full summary at time at, cpuAdded after the
// figures above.
func want(at time.Time, cpuAdded uint64, r rates) statsapi.Summary {
	mt := metav1.NewTime(at)
	cpu := func(ns uint64, rate *uint64) *statsapi.CPUStats {
		return &statsapi.CPUStats{Time: mt, UsageCoreNanoSeconds: u64(ns + cpuAdded), UsageNanoCores: rate}
	}
	mem := func(ws, usage, rss, faults, major uint64) *statsapi.MemoryStats {
		return &statsapi.MemoryStats{Time: mt, WorkingSetBytes: &ws, UsageBytes: &usage, RSSBytes: &rss, PageFaults: &faults, MajorPageFaults: &major}
	}
	nodeMem := mem(1<<30, 2<<30, 512<<20, 1000, 10)
	nodeMem.AvailableBytes = u64(4<<30 - 1<<30)
	eth0 := iface("eth0", 123456789, 3, 98765432, 4)
	podEth0 := iface("eth0", 5000, 1, 7000, 2)
	image := &statsapi.FsStats{Time: mt, AvailableBytes: u64(400e9), CapacityBytes: u64(500e9), InodesFree: u64(2e7), Inodes: u64(3e7)}
	logs := func(used, inodes uint64) *statsapi.FsStats {
		return &statsapi.FsStats{Time: mt, AvailableBytes: u64(150e9), CapacityBytes: u64(200e9), UsedBytes: &used,
			InodesFree: u64(1e6), Inodes: u64(2e6), InodesUsed: &inodes}
	}
	return statsapi.Summary{
		Node: statsapi.NodeStats{
			NodeName:  "node1",
			StartTime: metav1.NewTime(bootTime),
			CPU:       cpu(100e9, r.node),
			Memory:    nodeMem,
			Network: &statsapi.NetworkStats{Time: mt, InterfaceStats: eth0,
				Interfaces: []statsapi.InterfaceStats{eth0, iface("cni0", 1000, 0, 2000, 1)}},
			Fs: &statsapi.FsStats{Time: mt, AvailableBytes: u64(60e9), CapacityBytes: u64(100e9), UsedBytes: u64(40e9),
				InodesFree: u64(9e5), Inodes: u64(1e6), InodesUsed: u64(1e5)},
			Runtime: &statsapi.RuntimeStats{ImageFs: image, ContainerFs: image},
			Rlimit:  &statsapi.RlimitStats{Time: mt, MaxPID: i64(126000), NumOfRunningProcesses: i64(300)},
		},
		Pods: []statsapi.PodStats{{
			PodRef:       statsapi.PodReference{Name: "web-node1", Namespace: "team", UID: "uid-1"},
			StartTime:    metav1.NewTime(podStart),
			CPU:          cpu(3e9, r.pod),
			Memory:       mem(2000, 3000, 1500, 50, 2),
			Network:      &statsapi.NetworkStats{Time: mt, InterfaceStats: podEth0, Interfaces: []statsapi.InterfaceStats{podEth0}},
			ProcessStats: &statsapi.ProcessStats{ProcessCount: u64(7)},
			// "gone" has no cgroup: left out.
			Containers: []statsapi.ContainerStats{
				{Name: "app", StartTime: metav1.NewTime(appStart), CPU: cpu(2e9, r.app), Memory: mem(1500, 2500, 1000, 40, 1),
					Logs: logs(10, 2)},
				{Name: "side", StartTime: metav1.NewTime(sideStart), CPU: cpu(1e9, r.side), Memory: mem(400, 450, 300, 9, 0),
					Logs: logs(0, 0)},
			},
		}},
	}
}

// cpuAndMemoryOnly is s with what only_cpu_and_memory leaves out cleared.
func cpuAndMemoryOnly(s statsapi.Summary) statsapi.Summary {
	n := s.Node
	s.Node = statsapi.NodeStats{NodeName: n.NodeName, StartTime: n.StartTime, CPU: n.CPU, Memory: n.Memory}
	var pods []statsapi.PodStats
	for _, p := range s.Pods {
		var cs []statsapi.ContainerStats
		for _, c := range p.Containers {
			cs = append(cs, statsapi.ContainerStats{Name: c.Name, StartTime: c.StartTime, CPU: c.CPU, Memory: c.Memory})
		}
		pods = append(pods, statsapi.PodStats{PodRef: p.PodRef, StartTime: p.StartTime, CPU: p.CPU, Memory: p.Memory, Containers: cs})
	}
	s.Pods = pods
	return s
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func check(t *testing.T, step string, got, want statsapi.Summary) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %s\nwant %s", step, dump(got), dump(want))
	}
}

func TestSummary(t *testing.T) {
	f := newFixture(t)
	// First reading: no rate yet.
	check(t, "first", f.h.Summary(false), want(t0, 0, rates{}))

	// 500ms of CPU in each cgroup over 1s: half a core.
	f.now = t0.Add(time.Second)
	f.addCPU(500 * time.Millisecond)
	half := u64(500000000)
	check(t, "second", f.h.Summary(false), want(f.now, 5e8, rates{half, half, half, half}))

	// Only CPU and memory, same rates machinery: 2 cores over 2s.
	f.now = t0.Add(3 * time.Second)
	f.addCPU(4 * time.Second)
	two := u64(2000000000)
	check(t, "only cpu and memory", f.h.Summary(true), cpuAndMemoryOnly(want(f.now, 45e8, rates{two, two, two, two})))

	// side stops: left out and forgotten; back, it starts without a rate.
	side := f.cg["/minilet/p1/c3"]
	delete(f.cg, "/minilet/p1/c3")
	f.now = t0.Add(4 * time.Second)
	s := f.h.Summary(true)
	if len(s.Pods) != 1 || len(s.Pods[0].Containers) != 1 || s.Pods[0].Containers[0].Name != "app" {
		t.Fatalf("stopped container: %s", dump(s.Pods))
	}
	f.cg["/minilet/p1/c3"] = side
	f.now = t0.Add(5 * time.Second)
	s = f.h.Summary(true)
	if c := s.Pods[0].Containers[1]; c.Name != "side" || c.CPU.UsageNanoCores != nil {
		t.Errorf("a container back from gone has a rate: %s", dump(c))
	}
	if c := s.Pods[0].Containers[0]; c.CPU.UsageNanoCores == nil || *c.CPU.UsageNanoCores != 0 {
		t.Errorf("idle container's rate: %s", dump(c))
	}
}

// TestSummaryUnreadable: what cannot be read is left out, not an error.
func TestSummaryUnreadable(t *testing.T) {
	s := New(Config{
		NodeName: "n",
		Pods:     func() []eviction.PodRef { return nil },
		Cgroups:  fakeCgroups{},
		Statfs:   fakeStatfs{}.statfs,
		RootDir:  "/nowhere", ImageFsDir: "/nowhere",
		ProcRoot: t.TempDir(),
		Now:      func() time.Time { return t0 },
	}).Summary(false)
	w := statsapi.Summary{
		Node: statsapi.NodeStats{NodeName: "n", Rlimit: &statsapi.RlimitStats{Time: metav1.NewTime(t0)}},
		Pods: []statsapi.PodStats{},
	}
	check(t, "unreadable", s, w)
}

func TestMemoryStatsAvailable(t *testing.T) {
	for _, tc := range []struct {
		ws, limit uint64
		want      *uint64
	}{
		{ws: 1000, limit: 0, want: nil},
		{ws: 1000, limit: 4000, want: u64(3000)},
		{ws: 5000, limit: 4000, want: u64(0)},
	} {
		m := memoryStats(cgroupSample{at: t0, workingSet: &tc.ws}, tc.limit)
		if !reflect.DeepEqual(m.AvailableBytes, tc.want) {
			t.Errorf("working set %d limit %d: available %v", tc.ws, tc.limit, dump(m.AvailableBytes))
		}
	}
	if memoryStats(cgroupSample{at: t0}, 10) != nil {
		t.Error("memory stats without a working set")
	}
}
