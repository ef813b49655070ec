package probe

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Errors of a probe whose deadline passed, worded as net/http's client
// words them with Client.Timeout, so that messages match the kubelet's.
var (
	errHeaderTimeout = errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
	errBodyTimeout   = errors.New("context deadline exceeded (Client.Timeout or context cancellation while reading body)")
)

// probeTransport is the RoundTripper of HTTP probes. Plain-HTTP requests,
// nearly all probes, go over a connection of their own that is closed
// with the response: one dial, one request written, one response read, in
// the probe's goroutine. net/http's Transport would add a connection pool,
// two goroutines and two 4 KiB buffers per connection, which with
// keep-alives off (as the kubelet's) serve nothing and cost about half the
// CPU of a probe. HTTPS goes through tls, a Transport set up as the
// kubelet's (newHTTPTransport). The wire is the same either way: the
// request is written by net/http's Request.Write with "Connection: close"
// and no Accept-Encoding, and the response parsed by http.ReadResponse.
//
// The request's context must carry the probe's deadline; the caller's
// http.Client has no Timeout of its own (that would cost a goroutine per
// request with a RoundTripper other than net/http's).
type probeTransport struct {
	dialer *net.Dialer
	tls    *http.Transport
}

func newProbeTransport() *probeTransport {
	return &probeTransport{dialer: newDialer(), tls: newHTTPTransport()}
}

// connBuffers are the buffers of one plain-HTTP exchange, reused.
type connBuffers struct {
	r *bufio.Reader
	w *bufio.Writer
}

var buffersPool = sync.Pool{New: func() any {
	return &connBuffers{r: bufio.NewReaderSize(nil, 4096), w: bufio.NewWriterSize(nil, 1024)}
}}

// aLongTimeAgo is a deadline that makes blocked reads and writes return.
var aLongTimeAgo = time.Unix(1, 0)

func (t *probeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.URL.Scheme != "http" {
		res, err := t.tls.RoundTrip(req)
		if err != nil {
			return nil, headerErr(ctx, err)
		}
		res.Body = &probeBody{ReadCloser: res.Body, ctx: ctx, done: func() {}}
		return res, nil
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
	}
	conn, err := t.dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		closeBody(req)
		return nil, headerErr(ctx, err)
	}
	// The deadline of ctx interrupts the exchange: a blocked read or
	// write returns at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	bufs := buffersPool.Get().(*connBuffers)
	bufs.r.Reset(conn)
	bufs.w.Reset(conn)
	done := func() {
		stop()
		_ = conn.Close()
		bufs.r.Reset(nil)
		bufs.w.Reset(nil)
		buffersPool.Put(bufs)
	}
	res, err := exchange(req, bufs)
	if err != nil {
		done()
		return nil, headerErr(ctx, err)
	}
	res.Body = &probeBody{ReadCloser: res.Body, ctx: ctx, done: done}
	return res, nil
}

// exchange writes req, asking the server to close the connection, and
// reads the response, skipping informational (1xx) ones as net/http does.
func exchange(req *http.Request, bufs *connBuffers) (*http.Response, error) {
	out := *req
	out.Close = true
	if err := out.Write(bufs.w); err != nil {
		return nil, err
	}
	if err := bufs.w.Flush(); err != nil {
		return nil, err
	}
	for {
		res, err := http.ReadResponse(bufs.r, req)
		if err != nil {
			return nil, err
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return res, nil
	}
}

// headerErr is the error of an exchange that ended before the response's
// headers: the probe's timeout when its deadline passed, else err.
func headerErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errHeaderTimeout
	}
	return err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// probeBody is a response body that closes its connection when closed.
type probeBody struct {
	io.ReadCloser
	ctx  context.Context
	once sync.Once
	done func()
}

func (b *probeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		err = errBodyTimeout
	}
	return n, err
}

func (b *probeBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
