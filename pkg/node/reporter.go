package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Runtime is what the Reporter asks of the container runtime.
type Runtime interface {
	// Ping returns nil when the runtime answers.
	Ping(ctx context.Context) error
	// Version is the runtime's name and version, e.g.
	// "containerd 1.7.35".
	Version(ctx context.Context) (string, error)
}

// Reporter builds the node's current v1.Node: it measures the host, asks
// the runtime whether it is up, reads the cordon state, and keeps
// condition transition times between calls. The pod manager's Node
// method can be one call to it. It is safe for concurrent use.
type Reporter struct {
	info     Info
	stateDir string
	spec     SpecSource // what the operator set: cordon, labels, taints
	rt       Runtime
	tracker  ConditionTracker

	// readStats and now are the host and the clock; tests replace them.
	readStats func(stateDir string) (HostStats, error)
	now       func() time.Time

	// extended, when set, is the node's extended resources now.
	extended func() v1.ResourceList
	// eviction, when set, says the pressure conditions and what
	// allocatable keeps back.
	eviction EvictionView

	patchMu sync.Mutex // one Patch at a time: read, apply, write

	mu             sync.Mutex
	runtimeVersion string // the last version the runtime told
	alloc          v1.ResourceList
	allocAt        time.Time
}

// SetExtendedResources makes the node report f's resources (CDI devices,
// counted resources) in capacity and allocatable. Call before use.
func (r *Reporter) SetExtendedResources(f func() v1.ResourceList) { r.extended = f }

// EvictionView is what the eviction manager tells the node
// (pkg/eviction).
type EvictionView interface {
	// Pressure is the node's pressure conditions now.
	Pressure() Pressure
	// Reserved is what allocatable keeps back from these capacities:
	// the hard thresholds of memory.available and nodefs.available.
	Reserved(memoryCapacity, fsCapacity int64) Reserved
}

// SetEviction makes the node report e's pressure conditions and keep
// back e's hard thresholds from allocatable. Call before use.
func (r *Reporter) SetEviction(e EvictionView) { r.eviction = e }

// withEviction adds the eviction manager's view to host.
func (r *Reporter) withEviction(host *HostStats) {
	if r.eviction == nil {
		return
	}
	host.Pressure = r.eviction.Pressure()
	host.Reserved = r.eviction.Reserved(host.MemoryTotal, host.FsCapacity)
}

func (r *Reporter) extendedNow() v1.ResourceList {
	if r.extended == nil {
		return nil
	}
	return r.extended()
}

// allocMaxAge is how long Allocatable reuses a measure of the host.
const allocMaxAge = 10 * time.Second

// Allocatable is the node's allocatable resources, measured at most
// allocMaxAge ago: what a resourceFieldRef shows for a limit a container
// does not set.
func (r *Reporter) Allocatable() v1.ResourceList {
	now := r.now()
	r.mu.Lock()
	if r.alloc != nil && now.Sub(r.allocAt) < allocMaxAge {
		defer r.mu.Unlock()
		return r.alloc
	}
	r.mu.Unlock()
	host, err := r.readStats(r.stateDir)
	if err != nil {
		return nil
	}
	host.Extended = r.extendedNow()
	r.withEviction(&host)
	a := allocatable(host)
	r.mu.Lock()
	r.alloc, r.allocAt = a, now
	r.mu.Unlock()
	return a
}

// SpecSource holds what the operator set on the node: the SpecStore
// standalone, the API server's Node in cluster mode (pkg/cluster).
type SpecSource interface {
	// Spec is the cordon, labels and taints now.
	Spec() OperatorSpec
	// PatchSpec applies kubectl's patch of the node (label, taint,
	// cordon) to what the operator set; current is the node now and
	// flags the --node-labels. An invalid patch is an
	// *InvalidPatchError.
	PatchSpec(ctx context.Context, current v1.Node, flags map[string]string, patch []byte, now time.Time) error
}

// NewReporter returns a Reporter of the node described by info, whose
// state directory (nodefs) is stateDir, with what the operator set from
// spec. info.System, when empty, is read from the host.
func NewReporter(info Info, stateDir string, spec SpecSource, rt Runtime) *Reporter {
	if info.System == (SystemInfo{}) {
		info.System = ReadSystemInfo()
	}
	return &Reporter{
		info: info, stateDir: stateDir, spec: spec, rt: rt,
		readStats: ReadHostStats, now: time.Now,
		runtimeVersion: info.RuntimeVersion,
	}
}

// Node returns the node as it is now.
func (r *Reporter) Node(ctx context.Context) (v1.Node, error) {
	host, err := r.readStats(r.stateDir)
	if err != nil {
		return v1.Node{}, fmt.Errorf("node status: %w", err)
	}
	host.RuntimeErr = r.rt.Ping(ctx)
	host.Extended = r.extendedNow()
	r.withEviction(&host)
	info := r.info
	info.RuntimeVersion = r.version(ctx, host.RuntimeErr == nil)
	n := Build(info, host, r.spec.Spec(), r.now())
	r.tracker.Track(&n)
	return n, nil
}

// AdmissionNode is the node as Admit and Schedulable need it: name,
// labels and cordon state, without measuring the host or asking the
// runtime, so that it is cheap to get for every pod.
func (r *Reporter) AdmissionNode() *v1.Node {
	n := Build(r.info, HostStats{}, r.spec.Spec(), r.now())
	return &n
}

// Patch applies a patch of the node (ApplyPatch) to what the operator set,
// and records it. An invalid patch is an *InvalidPatchError.
func (r *Reporter) Patch(ctx context.Context, patch []byte) error {
	r.patchMu.Lock()
	defer r.patchMu.Unlock()
	n, err := r.Node(ctx)
	if err != nil {
		return err
	}
	return r.spec.PatchSpec(ctx, n, r.info.Labels, patch, r.now())
}

// version is the runtime's version in the kubelet's form,
// "containerd://1.7.35": asked anew while the runtime is up (it may have
// been upgraded), the last one known while it is down.
func (r *Reporter) version(ctx context.Context, up bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if up {
		if v, err := r.rt.Version(ctx); err == nil {
			r.runtimeVersion = RuntimeVersion(v)
		}
	}
	return r.runtimeVersion
}

// RuntimeVersion turns "containerd 1.7.35" into the kubelet's
// "containerd://1.7.35". A string already in that form, or with no
// space, is returned as it is.
func RuntimeVersion(v string) string {
	if strings.Contains(v, "://") {
		return v
	}
	name, ver, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return v
	}
	return name + "://" + strings.TrimPrefix(ver, "v")
}
