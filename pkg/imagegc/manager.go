package imagegc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// DefaultPeriod is how often the collector looks, as the kubelet's
// ImageGCPeriod.
const DefaultPeriod = 5 * time.Minute

// Store is the runtime's image store (pkg/runtime/containerd).
type Store interface {
	EnsureImage(ctx context.Context, ref string, policy runtime.PullPolicy, creds ...runtime.Credential) (runtime.Image, error)
	ListImages(ctx context.Context) ([]runtime.Image, error)
	RemoveImage(ctx context.Context, ref string) error
	ImageFS(ctx context.Context) (capacity, available int64, err error)
	ListContainers(ctx context.Context, selector map[string]string) ([]runtime.Container, error)
}

// PodSource names the pods whose images must stay (the pod manager).
type PodSource interface {
	Pods() []v1.Pod
}

// Recorder takes what GC reports: a node event, and the bytes an image
// removal freed.
type Recorder interface {
	NodeEvent(typ, reason, message string)
	ImageGCFreed(bytes int64, images int)
}

// Config is a Manager's settings.
type Config struct {
	Policy Policy
	Pinned []string      // never removed (the pause image)
	Period time.Duration // 0: DefaultPeriod
	Now    func() time.Time
}

// Manager runs image GC: every Period, and on demand (Collect).
type Manager struct {
	cfg   Config
	store Store
	pods  PodSource
	rec   Recorder
	log   *zap.Logger

	mu   sync.Mutex // one pass at a time; guards seen
	seen map[string]*seenImage
}

type seenImage struct{ firstSeen, lastUsed time.Time }

// NewManager returns a Manager; rec may be nil.
func NewManager(cfg Config, store Store, pods PodSource, rec Recorder, log *zap.Logger) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	return &Manager{cfg: cfg, store: store, pods: pods, rec: rec, log: log, seen: map[string]*seenImage{}}
}

// Run collects every Config.Period until ctx ends. The first look only learns
// which images exist (their minimum age starts then).
func (m *Manager) Run(ctx context.Context) {
	if _, err := m.observe(ctx); err != nil {
		m.log.Warn("image GC: cannot list images", zap.Error(err))
	}
	t := time.NewTicker(m.cfg.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := m.Collect(ctx, false); err != nil && ctx.Err() == nil {
				m.log.Warn("image GC failed", zap.Error(err))
			}
		}
	}
}

// Result is what one pass removed.
type Result struct {
	Removed []string // image names
	Freed   int64    // bytes, by the images' sizes
	Usage   int      // image filesystem use in percent before the pass
}

// Collect runs one pass; force (minilet images prune) removes every image
// that may go, whatever the usage.
func (m *Manager) Collect(ctx context.Context, force bool) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	imgs, err := m.observeLocked(ctx)
	if err != nil {
		m.event(v1.EventTypeWarning, "ImageGCFailed", err.Error())
		return Result{}, err
	}
	var fs FS
	if fs.Capacity, fs.Available, err = m.store.ImageFS(ctx); err != nil {
		err = fmt.Errorf("failed to get image stats: %w", err)
		m.event(v1.EventTypeWarning, "ImageGCFailed", err.Error())
		return Result{}, err
	}
	d := Plan(Input{Images: imgs, FS: fs, Policy: m.cfg.Policy, Now: m.cfg.Now(), Force: force})
	res := Result{Usage: d.Usage}
	if d.Want > 0 {
		m.log.Info("image filesystem above the high threshold: removing unused images",
			zap.Int("usagePercent", d.Usage), zap.Int("highThresholdPercent", m.cfg.Policy.HighThresholdPercent), zap.Int64("bytesToFree", d.Want))
	}
	var errs []error
	for _, im := range d.Remove {
		if err := m.remove(ctx, im); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, im.Refs...)
		res.Freed += im.Size
	}
	if len(d.Remove) > 0 && m.rec != nil {
		m.rec.ImageGCFreed(res.Freed, len(d.Remove)-len(errs))
	}
	if err := errors.Join(errs...); err != nil {
		m.event(v1.EventTypeWarning, "ImageGCFailed", err.Error())
		return res, err
	}
	if d.Short {
		// The kubelet's words.
		m.event(v1.EventTypeWarning, "FreeDiskSpaceFailed", fmt.Sprintf("Failed to garbage collect required amount of images. Attempted to free %d bytes, but only found %d bytes eligible to free.", d.Want, res.Freed))
	}
	return res, nil
}

func (m *Manager) remove(ctx context.Context, im Image) error {
	for _, ref := range im.Refs {
		if err := m.store.RemoveImage(ctx, ref); err != nil {
			return err
		}
	}
	m.log.Info("removed unused image", zap.Strings("image", im.Refs), zap.Int64("size", im.Size))
	delete(m.seen, im.ID)
	return nil
}

func (m *Manager) event(typ, reason, msg string) {
	if m.rec != nil {
		m.rec.NodeEvent(typ, reason, msg)
	}
}

func (m *Manager) observe(ctx context.Context) ([]Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.observeLocked(ctx)
}

// observeLocked lists the images, grouped by ID, with what uses them, and
// updates when each was first seen and last used.
func (m *Manager) observeLocked(ctx context.Context) ([]Image, error) {
	list, err := m.store.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := m.store.ListContainers(ctx, nil)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{} // image names and IDs containers use
	for _, c := range cs {
		used[normalize(c.Image)] = true
		if c.ImageID != "" {
			used[c.ImageID] = true
		}
	}
	wanted := map[string]bool{}
	for _, p := range m.pods.Pods() {
		for _, list := range [][]v1.Container{p.Spec.InitContainers, p.Spec.Containers} {
			for _, c := range list {
				wanted[normalize(c.Image)] = true
			}
		}
		for _, c := range p.Spec.EphemeralContainers {
			wanted[normalize(c.Image)] = true
		}
	}
	pinned := map[string]bool{}
	for _, p := range m.cfg.Pinned {
		pinned[normalize(p)] = true
	}
	now := m.cfg.Now()
	byID := map[string]*Image{}
	var order []string
	for _, im := range list {
		id := im.ID
		if id == "" {
			id = im.Digest // content gone: still one image
		}
		g, ok := byID[id]
		if !ok {
			g = &Image{ID: id, Size: im.Size}
			byID[id] = g
			order = append(order, id)
		}
		g.Refs = append(g.Refs, im.Ref)
		ref := normalize(im.Ref)
		g.InUse = g.InUse || used[ref] || used[id] || wanted[ref]
		g.Pinned = g.Pinned || pinned[ref]
		if used[ref] || used[id] {
			g.LastUsed = now
		}
	}
	out := make([]Image, 0, len(order))
	live := map[string]bool{}
	for _, id := range order {
		g := byID[id]
		s, ok := m.seen[id]
		if !ok {
			s = &seenImage{firstSeen: now}
			m.seen[id] = s
		}
		if !g.LastUsed.IsZero() {
			s.lastUsed = g.LastUsed
		}
		g.FirstSeen, g.LastUsed = s.firstSeen, s.lastUsed
		live[id] = true
		out = append(out, *g)
	}
	for id := range m.seen {
		if !live[id] {
			delete(m.seen, id)
		}
	}
	return out, nil
}

// normalize turns "busybox" into "docker.io/library/busybox:latest", the
// form the runtime names images by.
func normalize(ref string) string {
	if n, err := reference.ParseDockerRef(ref); err == nil {
		return n.String()
	}
	return strings.TrimSpace(ref)
}

// ReclaimImages removes every image that may go (unused, older than the
// minimum age), whatever the usage: the eviction manager's first step
// under disk pressure, as the kubelet's DeleteUnusedImages.
func (m *Manager) ReclaimImages(ctx context.Context) error {
	res, err := m.Collect(ctx, true)
	if len(res.Removed) > 0 {
		m.log.Info("removed unused images under disk pressure", zap.Strings("images", res.Removed), zap.Int64("freedBytes", res.Freed))
	}
	return err
}
