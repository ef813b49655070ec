package main

import (
	"github.com/minilet/minilet/pkg/metrics"
	"github.com/minilet/minilet/pkg/node"
)

// gcRecorder takes what image GC and eviction report: node events, the
// metrics of what image GC freed and of evictions.
type gcRecorder struct {
	events  *node.EventLog
	metrics *metrics.Metrics
}

func (r gcRecorder) NodeEvent(typ, reason, message string) { r.events.Record(typ, reason, message) }

func (r gcRecorder) ImageGCFreed(bytes int64, images int) { r.metrics.ImageGCFreed(bytes, images) }

func (r gcRecorder) Evicted(signal string) { r.metrics.Evicted(signal) }
