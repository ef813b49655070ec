package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type sent struct {
	msg  string
	prio journal.Priority
	vars map[string]string
}

func TestJournalCore(t *testing.T) {
	var got []sent
	core := newJournalCore(zapcore.DebugLevel, func(msg string, p journal.Priority, vars map[string]string) error {
		got = append(got, sent{msg, p, vars})
		return nil
	})
	log := zap.New(core, zap.AddCaller()).Named("pods").With(zap.String("namespace", "default"), zap.String("pod", "web"))
	log.Info("started container", zap.String("container", "app"), zap.Int("restartCount", 2))
	log.Error("cannot create the pod sandbox", zap.Error(errors.New("boom")))
	log.Debug("apply")
	log.Warn("probe failed")
	if len(got) != 4 {
		t.Fatalf("%d entries", len(got))
	}
	info := got[0]
	if info.prio != journal.PriInfo || info.vars["POD"] != "web" || info.vars["NAMESPACE"] != "default" || info.vars["CONTAINER"] != "app" ||
		info.vars["RESTARTCOUNT"] != "2" || info.vars["SYSLOG_IDENTIFIER"] != "minilet" || info.vars["CODE_FILE"] == "" {
		t.Errorf("info entry %+v", info)
	}
	if !strings.Contains(info.msg, "pods") || !strings.Contains(info.msg, "started container") || strings.Contains(info.msg, "INFO") {
		t.Errorf("message %q: want the logger name and message, no level", info.msg)
	}
	if got[1].prio != journal.PriErr || got[1].vars["ERROR"] != "boom" {
		t.Errorf("error entry %+v", got[1])
	}
	if got[2].prio != journal.PriDebug || got[3].prio != journal.PriWarning {
		t.Errorf("priorities %d %d", got[2].prio, got[3].prio)
	}
	for _, bad := range []string{"_private", "9lives", "PRIORITY", "-"} {
		if journalName(bad) != "" {
			t.Errorf("journal name for %q allowed", bad)
		}
	}
}
