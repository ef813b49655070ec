package pod

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// makeSandbox makes the pod's sandbox: its record, host directories,
// network namespace and CNI attachment, pause container and hosts files.
// The plan has removed any earlier pause container first; every other step
// takes whatever an interrupted earlier attempt left (a netns that exists,
// an attachment half made, a snapshot without its container). It returns
// the pause container as it now runs.
func (w *worker) makeSandbox(ctx context.Context, changed bool) (runtime.Container, error) {
	release, err := w.d.slots.acquire(ctx)
	if err != nil {
		return runtime.Container{}, err
	}
	defer release()
	rec := w.record()
	pod := rec.Pod
	if changed {
		w.log.Warn("pod sandbox is not running or was left half-made; recreating the pod's containers")
		w.events.record(v1.EventTypeNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "")
	}
	// Remember the pod before making anything, so a daemon killed at any
	// later point finds what it made; without pod IPs until the sandbox
	// is complete, so a half-made one is made again.
	rec.PodIPs = nil
	if err := w.saveRecord(rec); err != nil {
		return runtime.Container{}, err
	}
	if err := w.d.host.Prepare(pod, w.paths); err != nil {
		return runtime.Container{}, err
	}
	w.limitClaims(pod)
	pause, err := w.d.rt.EnsureImage(ctx, w.d.cfg.PauseImage, runtime.PullIfNotPresent)
	if err != nil {
		return runtime.Container{}, fmt.Errorf("pause image: %w", err)
	}

	netnsPath := ""
	if !pod.Spec.HostNetwork {
		if rec.NetnsPath != "" {
			// An earlier sandbox (or a daemon killed mid-way) may have
			// attached this pod: release that first, as a second CNI ADD
			// for the same pod fails.
			if err := w.d.net.Detach(ctx, rec.NetnsPath, w.attachment(pod)); err != nil {
				return runtime.Container{}, err
			}
		}
		if netnsPath, err = w.d.net.CreateNetns(w.podID); err != nil {
			return runtime.Container{}, err
		}
		rec.NetnsPath = netnsPath
		if err := w.saveRecord(rec); err != nil {
			return runtime.Container{}, err
		}
	}
	w.d.crashAt(CrashNetnsCreated)
	// CNI and the pause container are independent once the netns exists:
	// do them side by side.
	var (
		wg     sync.WaitGroup
		ips    []net.IP
		netErr error
	)
	if netnsPath != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ips, netErr = w.d.net.Attach(ctx, netnsPath, w.attachment(pod))
			if netErr == nil {
				w.d.crashAt(CrashNetworkAttached)
			}
		}()
	}
	spec := podsandbox.SandboxSpec(podsandbox.SandboxParams{
		Pod: pod, PodID: w.podID, Token: newSandboxToken(), Image: pause, NetnsPath: netnsPath,
		CgroupParent: w.cgroupParent(), Extra: w.extraLabels(rec),
	})
	pid, runErr := w.runSandbox(ctx, spec)
	wg.Wait()
	if runErr == nil && netErr == nil {
		w.d.crashAt(CrashSandboxStarted)
	}
	if err := errors.Join(netErr, runErr); err != nil {
		return runtime.Container{}, err
	}
	var podIPs []string
	for _, ip := range ips {
		podIPs = append(podIPs, ip.String())
	}
	if pod.Spec.HostNetwork {
		podIPs = []string{w.d.cfg.HostIP}
	}
	if err := w.d.host.WriteFiles(pod, w.paths, podIPs); err != nil {
		return runtime.Container{}, err
	}
	rec.PodIPs = podIPs
	if err := w.saveRecord(rec); err != nil {
		return runtime.Container{}, err
	}
	w.log.Info("pod sandbox running", zap.Strings("podIPs", podIPs), zap.Uint32("pausePID", pid))
	now := w.d.now()
	return runtime.Container{ID: spec.ID, Image: spec.Image, Labels: spec.Labels, CreatedAt: now,
		State: runtime.StateRunning, PID: pid, StartedAt: now}, nil
}

// saveRecord writes the pod's record and makes it the worker's.
func (w *worker) saveRecord(rec podRecord) error {
	if err := saveRecord(w.paths, rec); err != nil {
		return err
	}
	w.mu.Lock()
	w.rec.NetnsPath, w.rec.PodIPs = rec.NetnsPath, rec.PodIPs
	w.mu.Unlock()
	return nil
}

// newSandboxToken names a new sandbox instance: containers made for it
// carry it (podsandbox.LabelSandbox).
func newSandboxToken() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func (w *worker) runSandbox(ctx context.Context, spec runtime.ContainerSpec) (uint32, error) {
	if err := w.d.rt.CreateContainer(ctx, spec); err != nil && !errors.Is(err, runtime.ErrAlreadyExists) {
		return 0, err
	}
	return w.d.rt.StartContainer(ctx, spec.ID)
}

// attachment describes the pod to CNI, with its hostPorts.
func (w *worker) attachment(pod *v1.Pod) Attachment {
	a := Attachment{PodID: w.podID, Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID)}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := "tcp"
			switch p.Protocol {
			case v1.ProtocolUDP:
				proto = "udp"
			case v1.ProtocolSCTP:
				proto = "sctp"
			}
			a.Ports = append(a.Ports, HostPort{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
		}
	}
	return a
}
