package integration

import (
	"context"

	"github.com/minilet/minilet/internal/testcontainerd"
)

// containerdProc is the tests' private containerd.
type containerdProc struct {
	*testcontainerd.Process
	dir, address string
}

func startContainerd(dir string) (*containerdProc, error) {
	p, err := testcontainerd.Start(dir)
	if p == nil {
		return nil, err
	}
	return &containerdProc{Process: p, dir: p.Dir, address: p.Address}, err
}

func (c *containerdProc) stop() { c.Stop() }

// start starts containerd again after stop (cfgPath is the one Start wrote).
func (c *containerdProc) start(_ string) error { return c.Restart() }

func (c *containerdProc) ctr(ctx context.Context, ns string, args ...string) (string, error) {
	return c.Ctr(ctx, ns, args...)
}
