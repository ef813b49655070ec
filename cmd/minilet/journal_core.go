package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap/zapcore"
)

// journalSender is journal.Send; tests replace it.
type journalSender func(message string, priority journal.Priority, vars map[string]string) error

// journalCore writes log entries to the systemd journal through its native
// protocol: PRIORITY from the zap level (so `journalctl -u minilet -p err`
// finds the errors), every field as a journal field (POD, NAMESPACE,
// CONTAINER, ...: `journalctl -u minilet POD=web`), the message as the
// console encoder writes it, without the time and level journald adds.
// An entry the journal refuses goes to stderr instead.
type journalCore struct {
	zapcore.LevelEnabler
	enc    zapcore.Encoder
	fields []zapcore.Field
	send   journalSender
}

func newJournalCore(level zapcore.LevelEnabler, send journalSender) *journalCore {
	cfg := zapcore.EncoderConfig{
		NameKey: "logger", MessageKey: "msg", StacktraceKey: "stacktrace",
		LineEnding: "", EncodeDuration: zapcore.StringDurationEncoder, EncodeName: zapcore.FullNameEncoder,
	}
	return &journalCore{LevelEnabler: level, enc: zapcore.NewConsoleEncoder(cfg), send: send}
}

func (c *journalCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.enc = c.enc.Clone()
	for _, f := range fields {
		f.AddTo(clone.enc)
	}
	clone.fields = append(append([]zapcore.Field(nil), c.fields...), fields...)
	return &clone
}

func (c *journalCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *journalCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(e, fields)
	if err != nil {
		return err
	}
	msg := strings.TrimRight(buf.String(), "\n")
	buf.Free()
	vars := journalVars(append(append([]zapcore.Field(nil), c.fields...), fields...))
	vars["SYSLOG_IDENTIFIER"] = "minilet"
	if e.Caller.Defined {
		vars["CODE_FILE"] = e.Caller.File
		vars["CODE_LINE"] = strconv.Itoa(e.Caller.Line)
		vars["CODE_FUNC"] = e.Caller.Function
	}
	if err := c.send(msg, journalPriority(e.Level), vars); err != nil {
		fmt.Fprintf(os.Stderr, "<%d>%s\n", journalPriority(e.Level), msg)
	}
	return nil
}

func (c *journalCore) Sync() error { return nil }

// journalPriority is syslog's priority for a zap level.
func journalPriority(l zapcore.Level) journal.Priority {
	switch {
	case l <= zapcore.DebugLevel:
		return journal.PriDebug
	case l == zapcore.InfoLevel:
		return journal.PriInfo
	case l == zapcore.WarnLevel:
		return journal.PriWarning
	case l == zapcore.ErrorLevel:
		return journal.PriErr
	}
	return journal.PriCrit
}

// journalVars turns zap fields into journal fields: "podIPs" becomes
// PODIPS; names the journal would refuse are left out.
func journalVars(fields []zapcore.Field) map[string]string {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vars := map[string]string{}
	for _, k := range keys {
		name := journalName(k)
		if name == "" {
			continue
		}
		vars[name] = fmt.Sprint(enc.Fields[k])
	}
	return vars
}

func journalName(k string) string {
	var b strings.Builder
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		}
	}
	name := b.String()
	if name == "" || name[0] == '_' || (name[0] >= '0' && name[0] <= '9') || name == "PRIORITY" || name == "MESSAGE" {
		return ""
	}
	return name
}
