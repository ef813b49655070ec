package main

import (
	"strings"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
	"k8s.io/klog/v2"
)

// routeKlog sends what the Kubernetes libraries log through klog (the
// WebSocket streams of exec and attach, client-go) to the daemon's zap
// logger instead of bare lines on stderr: their informational lines at
// debug, their errors at warn. A stream read broken off by the close of
// its own session is not a fault, and is logged at debug.
func routeKlog(log *zap.Logger) {
	klog.SetLogger(logr.New(&klogSink{log: log.Named("k8s").WithOptions(zap.WithCaller(false))}))
}

// silenceKlog drops the libraries' klog lines in the CLI, whose errors
// come back to it as values.
func silenceKlog() { klog.SetLogger(logr.Discard()) }

type klogSink struct {
	log  *zap.Logger
	name string
}

func (s *klogSink) Init(logr.RuntimeInfo)  {}
func (s *klogSink) Enabled(level int) bool { return s.log.Core().Enabled(zap.DebugLevel) }

func (s *klogSink) Info(_ int, msg string, kv ...any) {
	s.log.Debug(msg, zapFields(kv)...)
}

func (s *klogSink) Error(err error, msg string, kv ...any) {
	f := zapFields(kv)
	if err != nil {
		f = append(f, zap.Error(err))
	}
	text := msg
	if err != nil {
		text += " " + err.Error()
	}
	if strings.Contains(text, "use of closed network connection") {
		s.log.Debug(msg, f...)
		return
	}
	s.log.Warn(msg, f...)
}

func (s *klogSink) WithValues(kv ...any) logr.LogSink {
	return &klogSink{log: s.log.With(zapFields(kv)...), name: s.name}
}

func (s *klogSink) WithName(name string) logr.LogSink {
	return &klogSink{log: s.log.Named(name), name: name}
}

func zapFields(kv []any) []zap.Field {
	out := make([]zap.Field, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			continue
		}
		out = append(out, zap.Any(k, kv[i+1]))
	}
	return out
}
