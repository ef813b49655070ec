package pod

import (
	"context"
	"fmt"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/podsandbox"
)

// adopt rebuilds workers for what an earlier run of the daemon left: pods
// with a state directory (running or half-made), and containers with
// minilet's labels but no state (orphans, stopped at once). Network
// namespaces that belong to no pod are removed. The workers are not
// started: the first desired State decides whether each is kept.
func (m *Manager) adopt(ctx context.Context) ([]*worker, error) {
	records, errs := listRecords(m.d.cfg.RootDir)
	for _, err := range errs {
		m.d.log.Warn("ignoring unreadable pod state", zap.Error(err))
	}
	cs, err := m.d.rt.ListContainers(ctx, map[string]string{podsandbox.LabelManaged: "true"})
	if err != nil {
		return nil, fmt.Errorf("list containers to adopt: %w", err)
	}
	// Containers whose pod has no record: rebuild a minimal pod from labels.
	for _, c := range cs {
		uid := c.Labels[podsandbox.LabelPodUID]
		if _, ok := records[uid]; ok || uid == "" {
			continue
		}
		zero := int64(2)
		records[uid] = podRecord{Pod: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: c.Labels[podsandbox.LabelPodName], Namespace: c.Labels[podsandbox.LabelPodNamespace], UID: types.UID(uid)},
			Spec:       v1.PodSpec{TerminationGracePeriodSeconds: &zero},
		}, File: "", Hash: "orphan"}
	}
	known := map[string]bool{}
	var out []*worker
	m.mu.Lock()
	for _, rec := range records {
		created := rec.Pod.CreationTimestamp.Time
		if created.IsZero() {
			created = m.d.now()
		}
		w := newWorker(m.d, rec, created)
		w.startCounted = true // started by an earlier run of the daemon
		known[w.podID] = true
		out = append(out, w)
		key := w.key()
		if rec.Hash == "orphan" {
			w.log.Warn("found containers of a pod minilet has no record of; removing them")
			m.terminating[w] = struct{}{}
			w.terminate()
			continue
		}
		if _, dup := m.active[key]; dup {
			m.terminating[w] = struct{}{}
			w.terminate()
			continue
		}
		m.active[key] = w
		w.log.Info("adopted pod", zap.String("uid", string(rec.Pod.UID)))
	}
	m.mu.Unlock()

	ids, err := m.d.net.ListNetns()
	if err != nil {
		m.d.log.Warn("cannot list network namespaces", zap.Error(err))
	}
	for _, id := range ids {
		if known[id] {
			continue
		}
		m.d.log.Warn("removing the network namespace of a pod minilet has no record of", zap.String("podID", id))
		if err := m.d.net.Detach(ctx, "", Attachment{PodID: id}); err != nil {
			m.d.log.Warn("cannot release the network of an unknown pod", zap.String("podID", id), zap.Error(err))
		}
		if err := m.d.net.RemoveNetns(id); err != nil {
			m.d.log.Warn("cannot remove the network namespace of an unknown pod", zap.String("podID", id), zap.Error(err))
		}
	}
	return out, nil
}
