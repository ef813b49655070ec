package main

import (
	"fmt"
	"os"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger makes the daemon's one logger: the journal's native protocol
// when stderr is the journal (systemd), JSON under another supervisor of
// systemd's kind, console on a terminal.
func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if format == "auto" {
		format = "console"
		if onJournal, _ := journal.StderrIsJournalStream(); onJournal {
			format = "journal"
		} else if os.Getenv("INVOCATION_ID") != "" {
			format = "json"
		}
	}
	var cfg zap.Config
	switch format {
	case "journal":
		// Under systemd with stderr on the journal: the native protocol,
		// with priorities and fields.
		core := newJournalCore(zap.NewAtomicLevelAt(lvl), journal.Send)
		return zap.New(core, zap.AddCaller()), nil
	case "json":
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true
		cfg.EncoderConfig.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
	default:
		return nil, fmt.Errorf("--log-format: %q is not json, console, journal or auto", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	cfg.OutputPaths = []string{"stderr"}
	return cfg.Build()
}
