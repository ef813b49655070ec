package main

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
)

type fakeStatuses []v1.PodStatus

func (f fakeStatuses) EachStatus(fn func(*v1.PodStatus)) {
	for i := range f {
		fn(&f[i])
	}
}

func (fakeStatuses) Healthy(context.Context) error { return nil }

func TestSummary(t *testing.T) {
	crash := v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: []v1.ContainerStatus{
		{State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}},
		{State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}},
	}}
	src := fakeStatuses{
		{Phase: v1.PodRunning}, {Phase: v1.PodRunning}, crash,
		{Phase: v1.PodPending}, {Phase: v1.PodFailed}, {Phase: v1.PodSucceeded},
	}
	want := "6 pods: 2 running, 1 pending, 2 failing, 1 completed"
	if got := summary(src); got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	if got := summary(fakeStatuses{}); got != "0 pods: 0 running, 0 pending, 0 failing, 0 completed" {
		t.Fatalf("empty summary %q", got)
	}
}
