package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/internal/syncbuf"
)

// syncBuffer is a buffer the test reads while something writes to it.
type syncBuffer = syncbuf.Buffer

// startWatchCLI runs `minilet get ... -w` until stop is called, which
// returns the command's error.
func startWatchCLI(t *testing.T, runDir string, args ...string) (out, errOut *syncBuffer, stop func() error) {
	t.Helper()
	root := newRootCommand()
	out, errOut = &syncBuffer{}, &syncBuffer{}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetArgs(append([]string{"--run-dir", runDir}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("the watch did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return out, errOut, stop
}

// waitFor polls until out holds want lines, and returns them as fields.
func waitFor(t *testing.T, out *syncBuffer, lines int) [][]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := out.String()
		if strings.Count(s, "\n") >= lines {
			return fields(s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, got:\n%s", lines, s)
		}
		time.Sleep(5 * time.Millisecond) // polling the command's output, with a deadline
	}
}

// watchTestCreated is when every watch test pod was made: a pod made
// again by the test is the same unless its status differs.
var watchTestCreated = metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))

func watchTestPod(ns, name, uid string, cs v1.ContainerStatus) v1.Pod {
	cs.Name = "app"
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), CreationTimestamp: watchTestCreated},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "app"}}},
		Status:     v1.PodStatus{Phase: v1.PodRunning, ContainerStatuses: []v1.ContainerStatus{cs}},
	}
}

var (
	csRunning = v1.ContainerStatus{Ready: true, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}}
	csWaiting = v1.ContainerStatus{State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	csCrashed = v1.ContainerStatus{RestartCount: 1, State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}
)

func TestGetPodsWatch(t *testing.T) {
	src := newNodeTestSource()
	src.setPods(watchTestPod("default", "db", "u1", csWaiting), watchTestPod("default", "web", "u2", csRunning),
		watchTestPod("kube-system", "dns", "u3", csRunning))
	dir := startCLITestDaemon(t, src)
	out, errOut, stop := startWatchCLI(t, dir, "get", "pods", "-w")

	want := [][]string{
		{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
		{"db", "0/1", "ContainerCreating", "0", "60m"},
		{"web", "1/1", "Running", "0", "60m"},
	}
	if got := waitFor(t, out, 3); !equalRows(got, want) {
		t.Fatalf("initial table:\n%s", out)
	}

	// db crashes: one more row, without a header.
	src.setPods(watchTestPod("default", "db", "u1", csCrashed), watchTestPod("default", "web", "u2", csRunning),
		watchTestPod("kube-system", "dns", "u3", csRunning))
	want = append(want, []string{"db", "0/1", "CrashLoopBackOff", "1", "60m"})
	if got := waitFor(t, out, 4); !equalRows(got, want) {
		t.Fatalf("after a change:\n%s", out)
	}
	// web goes; a pod of another namespace changes, unseen.
	src.setPods(watchTestPod("default", "db", "u1", csCrashed), watchTestPod("kube-system", "dns", "u3", csWaiting))
	want = append(want, []string{"web", "1/1", "Running", "0", "60m"})
	if got := waitFor(t, out, 5); !equalRows(got, want) {
		t.Fatalf("after a deletion:\n%s", out)
	}
	if err := stop(); err != nil {
		t.Errorf("watch ended with %v", err)
	}
	if errOut.String() != "" {
		t.Errorf("stderr %q", errOut.String())
	}
	if got := fields(out.String()); !equalRows(got, want) {
		t.Errorf("more rows than expected:\n%s", out)
	}
}

func TestGetPodsWatchVariants(t *testing.T) {
	src := newNodeTestSource()
	src.setPods(watchTestPod("default", "web", "u2", csRunning), watchTestPod("kube-system", "dns", "u3", csRunning))
	dir := startCLITestDaemon(t, src)

	// -A, one pod by name, --watch-only.
	all, _, _ := startWatchCLI(t, dir, "get", "pods", "-A", "--watch")
	one, _, _ := startWatchCLI(t, dir, "get", "pod", "web", "-w", "--no-headers")
	only, _, _ := startWatchCLI(t, dir, "get", "pods", "--watch-only")
	jsonOut, _, _ := startWatchCLI(t, dir, "get", "pods", "-w", "-o", "json")
	empty, emptyErr, _ := startWatchCLI(t, dir, "get", "pods", "-w", "-n", "nothing")
	if got := waitFor(t, all, 3); len(got) != 3 || got[0][0] != "NAMESPACE" || got[2][1] != "dns" {
		t.Fatalf("-A:\n%s", all)
	}
	if got := waitFor(t, one, 1); len(got) != 1 || got[0][0] != "web" {
		t.Fatalf("one pod:\n%s", one)
	}
	waitFor(t, jsonOut, 1)
	deadline := time.Now().Add(10 * time.Second)
	for emptyErr.String() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the command's output, with a deadline
	}
	if emptyErr.String() != "No resources found in nothing namespace.\n" || empty.String() != "" {
		t.Errorf("empty namespace: %q %q", empty.String(), emptyErr.String())
	}

	src.setPods(watchTestPod("default", "web", "u2", csCrashed), watchTestPod("kube-system", "dns", "u3", csRunning))
	if got := waitFor(t, all, 4); got[3][0] != "default" || got[3][3] != "CrashLoopBackOff" {
		t.Errorf("-A change:\n%s", all)
	}
	if got := waitFor(t, one, 2); got[1][2] != "CrashLoopBackOff" {
		t.Errorf("one pod change:\n%s", one)
	}
	// --watch-only: the header comes with the first change.
	if got := waitFor(t, only, 2); !equalRows(got, [][]string{
		{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
		{"web", "0/1", "CrashLoopBackOff", "1", "60m"},
	}) {
		t.Errorf("--watch-only:\n%s", only)
	}
	// -o json: one object per pod and change.
	deadline = time.Now().Add(10 * time.Second)
	var objs []v1.Pod
	for {
		objs = objs[:0]
		dec := json.NewDecoder(strings.NewReader(jsonOut.String()))
		for {
			var p v1.Pod
			if err := dec.Decode(&p); err != nil {
				break
			}
			objs = append(objs, p)
		}
		if len(objs) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling the command's output, with a deadline
	}
	if len(objs) != 2 || objs[0].Kind != "Pod" || objs[1].Status.ContainerStatuses[0].State.Waiting == nil {
		t.Errorf("-o json:\n%s", jsonOut)
	}
}

func TestGetPodsWatchErrors(t *testing.T) {
	dir := startCLITestDaemon(t, newNodeTestSource())
	if _, _, err := runCLI(t, dir, "get", "pods", "nope", "-w"); err == nil || err.Error() != `Error from server (NotFound): pods "nope" not found` {
		t.Errorf("missing pod: %v", err)
	}
	if _, _, err := runCLI(t, dir, "get", "pods", "web", "db", "-w"); err == nil || !strings.Contains(err.Error(), "watch is only supported on individual resources and resource collections, but 2 resources were found") {
		t.Errorf("two pods: %v", err)
	}
	if _, _, err := runCLI(t, t.TempDir(), "get", "pods", "-w"); err == nil || !strings.Contains(err.Error(), "is it running?") {
		t.Errorf("no daemon: %v", err)
	}
}
