package main

import "github.com/minilet/minilet/internal/testcontainerd"

// containerdProc is the bench's own containerd: its own socket, root and
// state, so it never meets another containerd on the machine.
type containerdProc struct {
	*testcontainerd.Process
	address string
}

func startContainerd(dir string) (*containerdProc, error) {
	p, err := testcontainerd.Start(dir)
	if p == nil {
		return nil, err
	}
	return &containerdProc{Process: p, address: p.Address}, err
}

func (c *containerdProc) stop() {
	if c != nil {
		c.Stop()
	}
}
