package runtimetest

import (
	"testing"
	"time"

	"github.com/minilet/minilet/pkg/runtime"
)

// TestFakeContract holds the fake to the contract that containerd meets
// (pkg/runtime/containerd runs the same suite).
func TestFakeContract(t *testing.T) {
	Contract(t, func(t *testing.T) Harness {
		f := New(time.Now)
		f.AddImage("busybox:1", runtime.ImageConfig{Cmd: []string{"sh"}})
		return Harness{
			RT:               f,
			Spec:             func(id string) runtime.ContainerSpec { return runtime.ContainerSpec{ID: id, Image: "busybox:1"} },
			Finish:           func(_ *testing.T, id string) { f.Exit(id, 3) },
			LeaveSnapshot:    func(_ *testing.T, id string) { f.LeaveSnapshot(id) },
			LeaveTaskCreated: func(_ *testing.T, id string) { f.LeaveTaskCreated(id) },
			Resources:        func(_ *testing.T, id string) runtime.Resources { return f.ResourcesOf(id) },
		}
	})
}
