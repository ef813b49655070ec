package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	"k8s.io/apimachinery/pkg/util/remotecommand"

	"github.com/minilet/minilet/pkg/runtime"
)

const (
	// sessionIdle ends a session with no traffic (client-go pings every
	// 5 s), as the kubelet's and the API server's streams.
	sessionIdle = 4 * time.Hour
	// statusWriteDeadline bounds the write of a session's final status.
	statusWriteDeadline = 10 * time.Second
	// v4Base64 is v4 with base64 frames, for clients without binary
	// WebSocket frames.
	v4Base64 = "v4." + wsstream.Base64ChannelWebSocketProtocol
)

// session is one exec or attach over a WebSocket in the channel protocol
// of Kubernetes: stdin 0, stdout 1, stderr 2, the final Status 3, terminal
// sizes 4, and with v5 the half-close of stdin (255).
type session struct {
	conn   *wsstream.Conn
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	status io.Writer
	sizes  chan runtime.TerminalSize
	// ctx ends when the client goes away (the resize channel, which a
	// client never closes, reads end-of-file).
	ctx    context.Context
	cancel context.CancelFunc
	log    *zap.Logger
}

// openSession upgrades the request; on failure it has answered.
func openSession(w http.ResponseWriter, r *http.Request, req execRequest, log *zap.Logger) (*session, bool) {
	if !wsstream.IsWebSocketRequest(r) {
		writeStatus(w, badRequest(fmt.Sprintf("exec and attach are served over a WebSocket (subprotocol %s or %s); SPDY is not served",
			remotecommand.StreamProtocolV5Name, remotecommand.StreamProtocolV4Name)))
		return nil, false
	}
	channels := []wsstream.ChannelType{
		remotecommand.StreamStdIn:  pick(req.stdin, wsstream.ReadChannel),
		remotecommand.StreamStdOut: pick(req.stdout, wsstream.WriteChannel),
		remotecommand.StreamStdErr: pick(req.stderr, wsstream.WriteChannel),
		remotecommand.StreamErr:    wsstream.WriteChannel,
		remotecommand.StreamResize: wsstream.ReadChannel,
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommand.StreamProtocolV5Name: {Binary: true, Channels: channels},
		remotecommand.StreamProtocolV4Name: {Binary: true, Channels: channels},
		v4Base64:                           {Binary: false, Channels: channels},
	})
	conn.SetIdleTimeout(sessionIdle)
	// The server's request deadlines would end the session after 30 s.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	_, streams, err := conn.Open(w, r)
	if err != nil {
		log.Warn("open an exec or attach session", zap.Error(err))
		return nil, false
	}
	ctx, cancel := context.WithCancel(r.Context())
	s := &session{conn: conn, stdout: streams[remotecommand.StreamStdOut], stderr: streams[remotecommand.StreamStdErr],
		status: streams[remotecommand.StreamErr], ctx: ctx, cancel: cancel, log: log}
	if req.stdin {
		s.stdin = streams[remotecommand.StreamStdIn]
	}
	if !req.stdout {
		s.stdout = nil
	}
	if !req.stderr {
		s.stderr = nil
	}
	// An empty frame on the lowest channel the client reads tells it the
	// session is open.
	first := s.status
	switch {
	case req.stdout:
		first = s.stdout
	case req.stderr:
		first = s.stderr
	}
	if _, err := first.Write(nil); err != nil {
		cancel()
		conn.Close()
		return nil, false
	}
	if req.tty {
		s.sizes = make(chan runtime.TerminalSize, 1)
	}
	go s.readSizes(streams[remotecommand.StreamResize])
	return s, true
}

func pick(on bool, t wsstream.ChannelType) wsstream.ChannelType {
	if on {
		return t
	}
	return wsstream.IgnoreChannel
}

// readSizes passes the terminal sizes the client sends on, the latest
// winning when the command is slower, and ends the session's context once
// the client is gone.
func (s *session) readSizes(r io.Reader) {
	defer s.cancel()
	dec := json.NewDecoder(r)
	for {
		var size struct{ Width, Height uint16 }
		if err := dec.Decode(&size); err != nil {
			return
		}
		if s.sizes == nil {
			continue
		}
		next := runtime.TerminalSize{Width: size.Width, Height: size.Height}
		select {
		case s.sizes <- next:
		default:
			select {
			case <-s.sizes:
			default:
			}
			s.sizes <- next
		}
	}
}

// streams are what the command reads and writes.
func (s *session) streams(req execRequest) runtime.ExecStreams {
	es := runtime.ExecStreams{Stdin: s.stdin, Stdout: s.stdout, Stderr: s.stderr, TTY: req.tty}
	if s.sizes != nil {
		// A client sends the first size as soon as the session opens: wait
		// for it a moment, so the terminal starts with it.
		select {
		case size := <-s.sizes:
			s.sizes <- size
		case <-time.After(time.Second):
		case <-s.ctx.Done():
		}
		es.Resize = s.sizes
	}
	return es
}

// finish sends the outcome as the final Status: Success, NonZeroExitCode
// with the code as its cause, or an internal error. A client gone gets
// nothing.
func (s *session) finish(code int32, err error) {
	var st metav1.Status
	switch {
	case err != nil && s.ctx.Err() != nil:
		return
	case err != nil:
		st = apierrors.NewInternalError(fmt.Errorf("error executing command in container: %w", err)).ErrStatus
	case code != 0:
		st = metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: exit status %d", code),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: remotecommand.ExitCodeCauseType, Message: fmt.Sprint(code)}}},
		}
	default:
		st = metav1.Status{Status: metav1.StatusSuccess}
	}
	b, merr := json.Marshal(st)
	if merr != nil {
		return
	}
	s.conn.SetWriteDeadline(statusWriteDeadline)
	if _, werr := s.status.Write(b); werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		s.log.Debug("send the status of an exec or attach", zap.Error(werr))
	}
}

// close ends the session: the client waits for the connection to close
// once it has the final status.
func (s *session) close() {
	s.cancel()
	_ = s.conn.Close()
}
