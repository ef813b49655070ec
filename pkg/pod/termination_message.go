package pod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/containerlog"
	"github.com/minilet/minilet/pkg/runtime"
)

// The kubelet's limits on a termination message.
const (
	maxTerminationMessage = 4096 // read from terminationMessagePath
	maxFallbackLines      = 80   // FallbackToLogsOnError: the log's last lines...
	maxFallbackBytes      = 2048 // ...and at most this much of them
	// logSettle bounds the wait for a failed container's last output to
	// reach its log, looked at every logSettleStep.
	logSettle     = time.Second
	logSettleStep = 20 * time.Millisecond
)

// makeTerminationLog makes the empty file an attempt's
// terminationMessagePath is bound to.
func makeTerminationLog(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o666)
	if err != nil {
		return err
	}
	// Any container user may write its message.
	return errors.Join(f.Chmod(0o666), f.Close())
}

// terminationMessage is the message of an exited attempt, as the kubelet
// makes it: what the container wrote to terminationMessagePath (at most
// 4 KiB), or with FallbackToLogsOnError and a failure, the end of its log.
func (w *worker) terminationMessage(c *v1.Container, cur *runtime.Container) string {
	w.mu.Lock()
	msg, ok := w.termMessages[cur.ID]
	w.mu.Unlock()
	if ok {
		return msg
	}
	attempt := restartCountOf(cur)
	msg = readLimited(w.paths.TerminationLog(c.Name, attempt), maxTerminationMessage)
	if msg == "" && cur.ExitCode != 0 && c.TerminationMessagePolicy == v1.TerminationMessageFallbackToLogsOnError {
		// The exit can be seen before the shim's log driver has written
		// the last output (a line without its newline is written at the
		// end of the stream): give it a moment.
		path := w.paths.ContainerLog(c.Name, attempt)
		for deadline := time.Now().Add(logSettle); ; time.Sleep(logSettleStep) {
			if msg = logTail(path); msg != "" || time.Now().After(deadline) {
				break
			}
		}
	}
	w.mu.Lock()
	w.termMessages[cur.ID] = msg
	w.mu.Unlock()
	return msg
}

// removeOldTerminationLogs removes the termination files of a container's
// attempts before keepFrom (any of them is the file of attempt 0).
func removeOldTerminationLogs(any string, keepFrom int) {
	dir := filepath.Dir(any)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		var n int
		if _, err := fmt.Sscanf(e.Name(), "%d.termination-log", &n); err == nil && n < keepFrom {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func readLimited(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return string(b)
}

// logTail is the last lines of a container's log, cut to the kubelet's
// size, oldest first.
func logTail(path string) string {
	r, err := containerlog.Open(path, containerlog.Options{Tail: maxFallbackLines})
	if err != nil {
		return "" // no log (never ran), or unreadable: no message
	}
	defer r.Close()
	var b bytes.Buffer
	if err := r.Copy(context.Background(), &b); err != nil {
		return ""
	}
	out := b.Bytes()
	if len(out) > maxFallbackBytes {
		out = out[len(out)-maxFallbackBytes:]
	}
	return string(out)
}
