package main

import (
	"context"
	"fmt"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	v1 "k8s.io/api/core/v1"

	"go.uber.org/zap"
)

// notifier speaks systemd's notify protocol: READY once the daemon has
// adopted its pods and applied the manifests, a STATUS line with a summary,
// WATCHDOG pings while the daemon is healthy, STOPPING on the way out.
// Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
type notifier struct {
	log   *zap.Logger
	quiet bool // minilet reset: not the service systemd started
}

func (n notifier) send(state string) {
	if n.quiet {
		return
	}
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		n.log.Debug("sd_notify failed", zap.Error(err))
	}
}

// ready says READY=1 with the first status, so that STATUS= is never
// empty once the unit is active.
func (n notifier) ready(status string) { n.send(sddaemon.SdNotifyReady + "\nSTATUS=" + status) }

// status sets STATUS= while minilet starts.
func (n notifier) status(s string) { n.send("STATUS=" + s) }

func (n notifier) stopping() { n.send(sddaemon.SdNotifyStopping) }

// statusSource is what the notifier reads for STATUS= and the watchdog.
type statusSource interface {
	EachStatus(f func(*v1.PodStatus))
	Healthy(ctx context.Context) error
}

// run sends STATUS every few seconds and, when systemd set WatchdogSec=,
// WATCHDOG=1 at half the interval as long as the daemon is healthy: a stuck
// pod manager or an unreachable containerd stops the pings, and systemd
// restarts minilet (its pods keep running).
func (n notifier) run(ctx context.Context, src statusSource) {
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		interval = 0
	}
	tick := 5 * time.Second
	if interval > 0 && interval/2 < tick {
		tick = interval / 2
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	last := summary(src)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s := summary(src); s != last {
			n.send("STATUS=" + s)
			last = s
		}
		if interval > 0 {
			hctx, cancel := context.WithTimeout(ctx, tick)
			err := src.Healthy(hctx)
			cancel()
			if err != nil {
				n.log.Warn("not pinging the systemd watchdog: minilet is unhealthy", zap.Error(err))
				continue
			}
			n.send(sddaemon.SdNotifyWatchdog)
		}
	}
}

// summary is the one-line STATUS: pods by state.
// It reads the statuses in place: no pod is copied every few seconds.
func summary(src statusSource) string {
	pods, running, pending, failing, done := 0, 0, 0, 0, 0
	src.EachStatus(func(st *v1.PodStatus) {
		pods++
		switch {
		case crashLooping(st):
			failing++
		case st.Phase == v1.PodRunning:
			running++
		case st.Phase == v1.PodPending:
			pending++
		case st.Phase == v1.PodFailed:
			failing++
		default:
			done++
		}
	})
	return fmt.Sprintf("%d pods: %d running, %d pending, %d failing, %d completed", pods, running, pending, failing, done)
}

func crashLooping(st *v1.PodStatus) bool {
	for _, cs := range st.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
			return true
		}
	}
	return false
}
