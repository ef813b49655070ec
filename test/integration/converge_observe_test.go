package integration

// What the host holds of a daemon's pods, read from containerd (ctr), the
// kernel (/proc, mounts, cgroups, iptables) and the daemon's directories,
// without asking minilet; each thing is attributed to the pod that owns it.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/podsandbox"
)

// Kinds of things a pod owns on the host.
const (
	kContainer    = "container"
	kTask         = "task"
	kSnapshot     = "snapshot"
	kRootfsMount  = "rootfs mount"
	kNetnsFile    = "netns file"
	kNetnsMount   = "netns mount"
	kShmMount     = "shm mount"
	kMemMount     = "Memory emptyDir mount"
	kMount        = "mount"
	kCNIAlloc     = "CNI IP allocation"
	kMasqRule     = "masquerade rule"
	kHostPortJump = "hostPort rule (CNI-HOSTPORT-DNAT)"
	kHostPortDNAT = "hostPort DNAT rule"
	kRule         = "iptables rule"
	kChain        = "iptables chain"
	kCgroup       = "cgroup"
	kProcess      = "process in the pod's cgroup"
	kShim         = "shim"
	kLogDriver    = "log driver"
	kNamingProc   = "process naming the pod"
	kStateDir     = "state dir"
	kRunDir       = "run dir"
	kLogDir       = "log dir"
	kLogLink      = "log link"
)

// owned is one thing on the host that belongs to a pod.
type owned struct {
	owner  string // pod ID; "" when it cannot be told
	kind   string
	detail string
}

// ctrTask is one line of `ctr tasks ls`.
type ctrTask struct {
	pid    uint32
	status string // RUNNING, STOPPED, CREATED, PAUSED, UNKNOWN
}

// hostView is what the host holds of one daemon's pods at one moment.
type hostView struct {
	containers map[string]bool
	tasks      map[string]ctrTask
	items      []owned
}

// ownedBy lists the items of one pod, of one kind ("" for every kind).
func (v *hostView) ownedBy(podID, kind string) []owned {
	var out []owned
	for _, it := range v.items {
		if it.owner == podID && (kind == "" || it.kind == kind) {
			out = append(out, it)
		}
	}
	return out
}

// podOfContainer is the pod ID that prefixes a container ID.
func podOfContainer(id string) string {
	owner, _, _ := strings.Cut(id, "-")
	return owner
}

// isSandboxID reports whether id names a pause container of podID:
// <pod-id>-pod.<token>, or <pod-id>-pod as an older minilet named it.
func isSandboxID(podID, id string) bool {
	return id == podID+"-pod" || strings.HasPrefix(id, podID+"-pod.")
}

// sandboxesOf lists the keys of m that name pause containers of podID.
func sandboxesOf[V any](podID string, m map[string]V) []string {
	var out []string
	for id := range m {
		if isSandboxID(podID, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// observe reads everything the daemon's pods can own. pool names the pods
// whose iptables chains and hostPort rules it looks for (chain names are
// hashes; they cannot be traced back otherwise).
func (d *daemon) observe(pool []*poolPod) (*hostView, error) {
	v := &hostView{containers: map[string]bool{}, tasks: map[string]ctrTask{}}
	add := func(owner, kind, detail string) { v.items = append(v.items, owned{owner, kind, detail}) }

	// containerd: containers, tasks, snapshots.
	out, err := env2ctr(d, "containers", "ls", "-q")
	if err != nil {
		return nil, fmt.Errorf("ctr containers ls: %v: %s", err, out)
	}
	for _, id := range strings.Fields(out) {
		v.containers[id] = true
		add(podOfContainer(id), kContainer, id)
	}
	if out, err = env2ctr(d, "tasks", "ls"); err != nil {
		return nil, fmt.Errorf("ctr tasks ls: %v: %s", err, out)
	}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		pid, _ := strconv.ParseUint(f[1], 10, 32)
		v.tasks[f[0]] = ctrTask{pid: uint32(pid), status: f[2]}
		add(podOfContainer(f[0]), kTask, fmt.Sprintf("%s %s pid %s", f[0], f[2], f[1]))
	}
	if out, err = env2ctr(d, "snapshots", "ls"); err != nil {
		return nil, fmt.Errorf("ctr snapshots ls: %v: %s", err, out)
	}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "sha256:") {
			continue // image layers
		}
		add(podOfContainer(f[0]), kSnapshot, f[0]+" "+f[len(f)-1])
	}

	// Mounts: under the daemon's directories, containers' rootfs under
	// containerd's state dir, and anything else that names a pool pod.
	taskDir := filepath.Join(env.containerd.StateDir(), "io.containerd.runtime.v2.task", d.Namespace) + "/"
	for _, m := range mountPoints() {
		switch {
		case strings.HasPrefix(m, d.Dir+"/"):
			owner, kind := d.classifyMount(m)
			if kind != "" {
				add(owner, kind, m)
			}
		case strings.HasPrefix(m, taskDir):
			id, _, _ := strings.Cut(strings.TrimPrefix(m, taskDir), "/")
			add(podOfContainer(id), kRootfsMount, m)
		default:
			for _, p := range pool {
				if strings.Contains(m, p.podID) || strings.Contains(m, string(p.uid)) {
					add(p.podID, kMount, m)
				}
			}
		}
	}

	// The daemon's directories.
	netnsDir := filepath.Join(d.RunDir, "netns")
	for _, e := range readDirNames(netnsDir) {
		add(e, kNetnsFile, filepath.Join(netnsDir, e))
	}
	netDir := filepath.Join(d.RootDir, "cni", "networks", d.Network)
	for _, e := range readDirNames(netDir) {
		if net.ParseIP(e) == nil {
			continue // lock, last_reserved_ip.0
		}
		b, _ := os.ReadFile(filepath.Join(netDir, e))
		owner, _, _ := strings.Cut(string(b), "\n")
		add(strings.TrimSpace(owner), kCNIAlloc, e)
	}
	for _, e := range readDirNames(filepath.Join(d.RootDir, "pods")) {
		add(podsandbox.PodID(types.UID(e)), kStateDir, filepath.Join(d.RootDir, "pods", e))
	}
	for _, e := range readDirNames(filepath.Join(d.RunDir, "pods")) {
		add(podsandbox.PodID(types.UID(e)), kRunDir, filepath.Join(d.RunDir, "pods", e))
	}
	for _, e := range readDirNames(d.LogDir) {
		parts := strings.Split(e, "_")
		add(podsandbox.PodID(types.UID(parts[len(parts)-1])), kLogDir, filepath.Join(d.LogDir, e))
	}
	for _, e := range readDirNames(d.LinkDir) {
		// <pod>_<ns>_<container>-<container ID>.log; the ID starts with
		// the 12 hex characters of the pod ID.
		owner := ""
		if m := logLinkID.FindStringSubmatch(e); m != nil {
			owner = m[1]
		}
		detail := filepath.Join(d.LinkDir, e)
		if _, err := os.Stat(detail); err != nil {
			detail += " (dangling)"
		}
		add(owner, kLogLink, detail)
	}

	// iptables (every table): rules whose comment names the network, the
	// hostPort rules, and per-pod chains.
	d.observeRules(pool, add)

	// Pod cgroups, and the processes in them.
	cgDirs, _ := filepath.Glob("/sys/fs/cgroup/*/minilet/" + d.Namespace + "/pod*")
	for _, cg := range cgDirs {
		add(strings.TrimPrefix(filepath.Base(cg), "pod"), kCgroup, cg)
	}
	marker := "/minilet/" + d.Namespace + "/pod"
	for _, pr := range processes() {
		if pr.state == "Z" {
			continue // dead; its parent has not reaped it yet
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pr.pid)); err == nil {
			if _, rest, ok := strings.Cut(string(b), marker); ok {
				owner, _, _ := strings.Cut(rest, "/")
				owner, _, _ = strings.Cut(owner, "\n")
				add(owner, kProcess, fmt.Sprintf("pid %d %s", pr.pid, strings.Join(pr.args, " ")))
			}
		}
		cmdline := strings.Join(pr.args, " ")
		switch {
		case len(pr.args) > 0 && strings.Contains(pr.args[0], "containerd-shim") &&
			argAfter(pr.args, "-namespace") == d.Namespace && argAfter(pr.args, "-address") == env.containerd.address:
			// A shim of this containerd and namespace: -namespace NS -id ID -address ADDR.
			id := argAfter(pr.args, "-id")
			add(podOfContainer(id), kShim, fmt.Sprintf("pid %d -id %s", pr.pid, id))
		case strings.Contains(cmdline, "log-driver") && procEnviron(pr.pid)["CONTAINER_NAMESPACE"] == d.Namespace:
			// A log driver: the shim gives it the container in its environment.
			id := procEnviron(pr.pid)["CONTAINER_ID"]
			add(podOfContainer(id), kLogDriver, fmt.Sprintf("pid %d for %s", pr.pid, id))
		default:
			for _, p := range pool {
				if strings.Contains(cmdline, p.podID) || strings.Contains(cmdline, string(p.uid)) {
					add(p.podID, kNamingProc, fmt.Sprintf("pid %d %s", pr.pid, cmdline))
				}
			}
		}
	}
	return v, nil
}

var logLinkID = regexp.MustCompile(`-([0-9a-f]{12})-[^_]*\.log$`)

// classifyMount tells whose a mount under the daemon's directory is. The
// netns directory is a shared mount point made once per daemon: no pod's.
func (d *daemon) classifyMount(m string) (owner, kind string) {
	netnsDir := filepath.Join(d.RunDir, "netns")
	if m == netnsDir {
		return "", ""
	}
	if strings.HasPrefix(m, netnsDir+"/") {
		return filepath.Base(m), kNetnsMount
	}
	for _, base := range []string{filepath.Join(d.RunDir, "pods"), filepath.Join(d.RootDir, "pods")} {
		if rest, ok := strings.CutPrefix(m, base+"/"); ok {
			uid, sub, _ := strings.Cut(rest, "/")
			owner := podsandbox.PodID(types.UID(uid))
			switch {
			case sub == "shm" && base == filepath.Join(d.RunDir, "pods"):
				return owner, kShmMount
			case strings.HasPrefix(sub, "volumes/"):
				return owner, kMemMount
			}
			return owner, kMount
		}
	}
	return "", kMount
}

// observeRules adds the iptables rules and chains of the daemon's network.
func (d *daemon) observeRules(pool []*poolPod, add func(owner, kind, detail string)) {
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		add("", kRule, "iptables-save: "+err.Error())
		return
	}
	commentID := regexp.MustCompile(`name: \\"` + regexp.QuoteMeta(d.Network) + `\\" id: \\"([^\\"]*)\\"`)
	masq := regexp.MustCompile(`^-A POSTROUTING -s ([0-9.]+)/32 `)
	dnatTo := regexp.MustCompile(`-j DNAT --to-destination (\S+)`)
	table := ""
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "*") {
			table = line[1:]
			continue
		}
		if name, ok := strings.CutPrefix(line, ":CNI-"); ok {
			name, _, _ = strings.Cut(name, " ")
			if i := strings.LastIndex(name, "-"); i >= 0 {
				name = name[i+1:] // CNI-DN-<hash>, CNI-SN-<hash>
			}
			for _, p := range pool {
				if len(name) >= 16 && strings.HasPrefix(p.chainKey, strings.ToLower(name)) {
					add(p.podID, kChain, table+" "+strings.Fields(line)[0])
				}
			}
			continue
		}
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		rule := table + " " + line
		if m := commentID.FindStringSubmatch(line); m != nil {
			switch {
			case strings.Contains(line, "-A CNI-HOSTPORT-DNAT "):
				add(m[1], kHostPortJump, rule)
			case masq.MatchString(line):
				add(m[1], kMasqRule, masq.FindStringSubmatch(line)[1])
			default:
				add(m[1], kRule, rule)
			}
			continue
		}
		for _, p := range pool {
			if p.hostPort != 0 && (strings.Contains(line, fmt.Sprintf("--dport %d ", p.hostPort)) || strings.Contains(line, fmt.Sprintf("--dports %d ", p.hostPort))) {
				if m := dnatTo.FindStringSubmatch(line); m != nil {
					add(p.podID, kHostPortDNAT, m[1])
				} else {
					add(p.podID, kRule, rule)
				}
			}
		}
	}
}

// mountPoints lists every mount point of the host's mount namespace.
func mountPoints() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 {
			out = append(out, fields[4])
		}
	}
	return out
}

// mountFSType is the file system type of the mount at path inside a
// process's mount namespace, "" if there is none.
func mountFSType(pid uint32, path string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return ""
	}
	fs := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[4] != path {
			continue
		}
		for i, x := range f {
			if x == "-" && i+1 < len(f) {
				fs = f[i+1] // the last mount stacked there wins
			}
		}
	}
	return fs
}

// readNs is a process's namespace link ("net:[4026532...]"), "" if the
// process is gone.
func readNs(pid uint32, kind string) string {
	link, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	return link
}

func fileInode(path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}

func readDirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// proc is one process of the host.
type proc struct {
	pid, ppid int
	state     string
	args      []string
}

// processes lists the host's processes.
func processes() []proc {
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(cmdline) == 0 {
			args = nil
		}
		out = append(out, proc{pid: pid, ppid: ppid, state: f[0], args: args})
	}
	return out
}

func procEnviron(pid int) map[string]string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	out := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// argAfter is the argument that follows flag, "" if none.
func argAfter(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// runCmd runs a command and returns its trimmed output.
func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %v: %v: %s", name, args, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// unixSocketsOf lists the paths of the unix sockets the processes hold.
func unixSocketsOf(pids []int) []string {
	inodes := map[string]bool{}
	for _, pid := range pids {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if ino, ok := strings.CutPrefix(link, "socket:["); ok {
				inodes[strings.TrimSuffix(ino, "]")] = true
			}
		}
	}
	b, _ := os.ReadFile("/proc/net/unix")
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		// Num RefCount Protocol Flags Type St Inode Path
		if f := strings.Fields(line); len(f) == 8 && inodes[f[6]] && strings.HasPrefix(f[7], "/") && !seen[f[7]] {
			seen[f[7]] = true
			out = append(out, f[7])
		}
	}
	return out
}
