package main

import (
	"github.com/minilet/minilet/pkg/metrics"
	"github.com/minilet/minilet/pkg/node"
)

// gcRecorder takes what image GC reports: node events and the metrics of
// what it freed.
type gcRecorder struct {
	events  *node.EventLog
	metrics *metrics.Metrics
}

func (r gcRecorder) NodeEvent(typ, reason, message string) { r.events.Record(typ, reason, message) }

func (r gcRecorder) ImageGCFreed(bytes int64, images int) { r.metrics.ImageGCFreed(bytes, images) }
