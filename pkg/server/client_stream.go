package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	gwebsocket "github.com/gorilla/websocket"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/websocket"
	utilexec "k8s.io/client-go/util/exec"
)

// StreamOptions select an exec or an attach, as kubectl's flags.
type StreamOptions struct {
	Container string   // may be empty when the pod has one container
	Command   []string // exec only
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer // unused with TTY: the terminal merges it into Stdout
	TTY       bool
	// Sizes gives the terminal's size, first at once, then on each
	// change (nil: none sent).
	Sizes remotecommand.TerminalSizeQueue
}

// ExitError is the non-zero exit code of a command run by Exec.
type ExitError struct{ Code int }

func (e *ExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}

// Exec runs a command in a container of the pod namespace/pod over the
// daemon's socket, in Kubernetes' WebSocket protocol v5.channel.k8s.io
// (client-go's executor, as kubectl exec), and returns when it ends: nil,
// an *ExitError with its exit code, or a *StatusError the daemon answered.
func (c *Client) Exec(ctx context.Context, namespace, pod string, o StreamOptions) error {
	return c.session(ctx, podPath(namespace, pod)+"/exec", o)
}

// Attach streams the output of a running container of the pod until it
// stops or ctx ends.
func (c *Client) Attach(ctx context.Context, namespace, pod string, o StreamOptions) error {
	o.Command = nil
	return c.session(ctx, podPath(namespace, pod)+"/attach", o)
}

func (c *Client) session(ctx context.Context, path string, o StreamOptions) error {
	q := url.Values{}
	if o.Container != "" {
		q.Set("container", o.Container)
	}
	q["command"] = o.Command
	for name, on := range map[string]bool{"stdin": o.Stdin != nil, "stdout": o.Stdout != nil, "stderr": o.Stderr != nil && !o.TTY, "tty": o.TTY} {
		q.Set(name, strconv.FormatBool(on))
	}
	cfg := &restclient.Config{Host: "http://minilet", WrapTransport: c.unixWebSocket}
	exec, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, "http://minilet"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	stderr := o.Stderr
	if o.TTY {
		stderr = nil
	}
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: stderr, Tty: o.TTY, TerminalSizeQueue: o.Sizes,
	})
	var code utilexec.CodeExitError
	if errors.As(err, &code) {
		return &ExitError{Code: code.Code}
	}
	return err
}

// unixWebSocket replaces client-go's WebSocket dial, which knows only TCP,
// by one over the daemon's Unix socket; the channel protocol above it is
// still client-go's.
func (c *Client) unixWebSocket(rt http.RoundTripper) http.RoundTripper {
	holder, ok := rt.(*websocket.RoundTripper)
	if !ok {
		return rt
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		protocols := req.Header[wsstream.WebSocketProtocolHeader]
		header := req.Header.Clone()
		header.Del(wsstream.WebSocketProtocolHeader)
		dialer := gwebsocket.Dialer{
			NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", c.socket)
			},
			Subprotocols:     protocols,
			HandshakeTimeout: clientTimeout,
			ReadBufferSize:   32<<10 + 1024,
			WriteBufferSize:  32<<10 + 1024,
		}
		u := *req.URL
		u.Scheme = "ws"
		conn, resp, err := dialer.DialContext(req.Context(), u.String(), header)
		if errors.Is(err, gwebsocket.ErrBadHandshake) && resp != nil {
			defer resp.Body.Close()
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
			if rerr != nil {
				return nil, fmt.Errorf("read the daemon's answer to %s: %w", req.URL.Path, rerr)
			}
			return nil, answerError(resp.StatusCode, body)
		}
		if err != nil {
			return nil, c.dialError(err)
		}
		holder.Conn = conn
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
