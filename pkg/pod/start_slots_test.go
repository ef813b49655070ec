package pod

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/restart"
	"github.com/minilet/minilet/pkg/runtime"
	"github.com/minilet/minilet/pkg/runtime/runtimetest"
)

// gatedNet holds every CNI ADD until the gate opens, counting how many are
// inside at once.
type gatedNet struct {
	fakeNet
	gate            chan struct{}
	mu              sync.Mutex
	inside, maxSeen int
}

func (n *gatedNet) Attach(ctx context.Context, path string, a Attachment) ([]net.IP, error) {
	n.mu.Lock()
	n.inside++
	n.maxSeen = max(n.maxSeen, n.inside)
	n.mu.Unlock()
	<-n.gate
	n.mu.Lock()
	n.inside--
	n.mu.Unlock()
	return n.fakeNet.Attach(ctx, path, a)
}

func (n *gatedNet) counts() (inside, maxSeen int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inside, n.maxSeen
}

func TestSandboxesAreMadeAtMostNAtOnce(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	rt := runtimetest.New(func() time.Time { return now })
	rt.AddImage("pause:1", runtime.ImageConfig{Entrypoint: []string{"/pause"}})
	rt.AddImage("busybox:1", runtime.ImageConfig{Cmd: []string{"sh"}})
	nw := &gatedNet{fakeNet: fakeNet{attached: map[string]bool{}, netns: map[string]bool{}}, gate: make(chan struct{})}
	slots := newStartSlots(2, time.Hour)
	d := &deps{
		cfg: Config{RootDir: t.TempDir(), RunDir: t.TempDir(), PodLogDir: t.TempDir(), PauseImage: "pause:1", HostIP: "192.168.0.2", CgroupRoot: "/minilet/test"},
		rt:  rt, net: nw, host: &fakeHost{prepared: map[string]bool{}}, obs: nopObserver{}, log: zap.NewNop(),
		clock: funcClock(func() time.Time { return now }), backoff: restart.DefaultBackoff(0), slots: slots,
	}
	const pods = 5
	var wg sync.WaitGroup
	workers := make([]*worker, pods)
	for i := range workers {
		p := newPod("Always", nil, "app")
		p.ObjectMeta = metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "default", UID: types.UID(fmt.Sprintf("uid-%d", i))}
		workers[i] = newWorker(d, podRecord{Pod: p, File: "/etc/minilet/p.yaml", Hash: "h1"}, now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			workers[i].sync(context.Background())
		}()
	}
	// Two sandboxes are being made, the three other pods wait for a slot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		inside, _ := nw.counts()
		if inside == 2 && slots.waiting.Load() == pods-2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want 2 CNI ADDs at once and %d pods waiting for a slot; have %d and %d", pods-2, inside, slots.waiting.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(nw.gate)
	wg.Wait()
	if _, maxSeen := nw.counts(); maxSeen != 2 {
		t.Errorf("%d sandboxes made at once, want at most 2", maxSeen)
	}
	for _, w := range workers {
		if st := w.snapshot().Status; len(st.ContainerStatuses) != 1 || st.ContainerStatuses[0].State.Running == nil {
			t.Errorf("pod %s did not start once slots freed: %+v", w.record().Pod.Name, st.ContainerStatuses)
		}
	}
}

func TestSlotWaitIsBounded(t *testing.T) {
	s := newStartSlots(1, time.Millisecond)
	hold, err := s.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	// The only slot is held: the next pod goes on after maxWait anyway.
	release, err := s.acquire(context.Background())
	if err != nil {
		t.Fatalf("a pod waiting past maxWait got %v, want to go on", err)
	}
	release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2 := newStartSlots(1, time.Hour)
	h2, _ := s2.acquire(context.Background())
	defer h2()
	if _, err := s2.acquire(ctx); err == nil {
		t.Error("a cancelled wait for a slot did not return the context's error")
	}
	if newStartSlots(0, time.Hour) != nil {
		t.Error("0 slots must mean no bound")
	}
}
