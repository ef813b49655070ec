package pod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/network"
	"github.com/minilet/minilet/pkg/podsandbox"
	"github.com/minilet/minilet/pkg/runtime"
)

// ensureSandbox makes sure the pod's pause container runs, with its network
// and files. A pause container that died takes the pod's containers with
// it: they are stopped and restarted in a new sandbox, as the kubelet does.
func (w *worker) ensureSandbox(ctx context.Context, rec *podRecord, pc *podContainers) error {
	// The record gets the pod IPs only once the sandbox is complete
	// (network attached, files written): a running pause without them was
	// left half-made by a daemon that died, and is made again.
	complete := len(rec.PodIPs) > 0
	if sb := pc.sandbox; sb != nil && sb.State == runtime.StateRunning && complete {
		w.sandboxPID = sb.PID
		return nil
	}
	pod := rec.Pod
	if pc.sandbox != nil {
		w.log.Warn("pod sandbox is not running or was left half-made; recreating the pod's containers",
			zap.String("state", string(pc.sandbox.State)), zap.Bool("complete", complete))
		w.events.record(v1.EventTypeNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "")
		if err := w.killContainers(ctx, pod, *pc, 0); err != nil {
			return err
		}
		if err := w.d.rt.RemoveContainer(ctx, pc.sandbox.ID); err != nil {
			return err
		}
		pc.sandbox = nil
	}
	// Remember the pod before making anything, so a daemon killed at any
	// later point finds what it made.
	if err := saveRecord(w.paths, *rec); err != nil {
		return err
	}
	if err := w.d.host.Prepare(pod, w.paths); err != nil {
		return err
	}
	pause, err := w.d.rt.EnsureImage(ctx, w.d.cfg.PauseImage, runtime.PullIfNotPresent)
	if err != nil {
		return fmt.Errorf("pause image: %w", err)
	}

	netnsPath := ""
	if !pod.Spec.HostNetwork {
		if rec.NetnsPath != "" {
			// An earlier sandbox (or a daemon killed mid-way) may have
			// attached this pod: release that first, as a second CNI ADD
			// for the same pod fails.
			if err := w.d.net.Detach(ctx, rec.NetnsPath, w.attachment(pod)); err != nil {
				return err
			}
		}
		if netnsPath, err = w.d.net.CreateNetns(w.podID); err != nil {
			return err
		}
		rec.NetnsPath = netnsPath
		w.mu.Lock()
		w.rec.NetnsPath = netnsPath
		w.mu.Unlock()
		if err := saveRecord(w.paths, *rec); err != nil {
			return err
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
		Pod: pod, PodID: w.podID, Image: pause, NetnsPath: netnsPath,
		CgroupParent: w.cgroupParent(), Extra: w.extraLabels(*rec),
	})
	pid, runErr := w.runSandbox(ctx, spec)
	wg.Wait()
	if runErr == nil && netErr == nil {
		w.d.crashAt(CrashSandboxStarted)
	}
	if err := errors.Join(netErr, runErr); err != nil {
		return err
	}
	var podIPs []string
	for _, ip := range ips {
		podIPs = append(podIPs, ip.String())
	}
	if pod.Spec.HostNetwork {
		podIPs = []string{w.d.cfg.HostIP}
	}
	if err := w.d.host.WriteFiles(pod, w.paths, podIPs); err != nil {
		return err
	}
	rec.NetnsPath, rec.PodIPs = netnsPath, podIPs
	if err := saveRecord(w.paths, *rec); err != nil {
		return err
	}
	w.mu.Lock()
	w.rec.NetnsPath, w.rec.PodIPs = netnsPath, podIPs
	w.mu.Unlock()
	w.sandboxPID = pid
	w.log.Info("pod sandbox running", zap.Strings("podIPs", podIPs), zap.Uint32("pausePID", pid))
	if len(pc.byName) > 0 {
		// Containers of the old sandbox were stopped: see them as they
		// are now. A new pod has none, and skips the round trip.
		if pc2, err := w.listPod(ctx); err == nil {
			*pc = pc2
		}
	}
	return nil
}

func (w *worker) runSandbox(ctx context.Context, spec runtime.ContainerSpec) (uint32, error) {
	if err := w.d.rt.CreateContainer(ctx, spec); err != nil && !errors.Is(err, runtime.ErrAlreadyExists) {
		return 0, err
	}
	return w.d.rt.StartContainer(ctx, spec.ID)
}

// attachment describes the pod to CNI, with its hostPorts.
func (w *worker) attachment(pod *v1.Pod) network.Attachment {
	a := network.Attachment{PodID: w.podID, Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID)}
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
			a.Ports = append(a.Ports, network.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
		}
	}
	return a
}
