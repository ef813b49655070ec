package containerd

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minilet/minilet/pkg/runtime"
)

// UpdateResources changes the cgroup settings of a running task (as the
// CRI plugin's UpdateContainerResources, through runc update), then
// records labels on the container.
func (r *Runtime) UpdateResources(ctx context.Context, id string, res runtime.Resources, labels map[string]string) error {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("update resources of %s: %w", id, wrap(err))
	}
	t, err := c.Task(ctx, nil)
	if err != nil {
		return fmt.Errorf("update resources of %s: %w", id, wrap(err))
	}
	if err := t.Update(ctx, containerd.WithResources(linuxResources(res))); err != nil {
		return fmt.Errorf("update resources of %s: %w", id, wrap(err))
	}
	if len(labels) > 0 {
		if _, err := c.SetLabels(ctx, labels); err != nil {
			return fmt.Errorf("label %s: %w", id, wrap(err))
		}
	}
	return nil
}

// linuxResources is res for runc update: every setting written, a zero
// quota or memory limit as -1 (unlimited), so that a limit removed is
// lifted.
func linuxResources(res runtime.Resources) *specs.LinuxResources {
	shares := res.CPUShares
	quota, period := res.CPUQuota, res.CPUPeriod
	if quota <= 0 {
		quota = -1
	}
	if period == 0 {
		period = 100000
	}
	mem := res.MemoryLimitBytes
	if mem <= 0 {
		mem = -1
	}
	return &specs.LinuxResources{
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period},
		Memory: &specs.LinuxMemory{Limit: &mem},
	}
}
