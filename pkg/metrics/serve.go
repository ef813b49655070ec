package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// shutdownTimeout bounds how long Serve waits for open requests once its
// context ends.
const shutdownTimeout = 5 * time.Second

// CheckAddr reports whether Serve would accept addr: "" (disabled) and
// loopback addresses always; any other address only when
// allowNonLoopback is set, since the endpoint has no authentication and
// the operator must name a wider one explicitly. The daemon can call it
// while checking flags, before anything starts.
func CheckAddr(addr string, allowNonLoopback bool) error {
	if addr == "" || allowNonLoopback {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		return fmt.Errorf("metrics address %q listens on every interface; name it explicitly to allow that, or use a loopback address such as 127.0.0.1", addr)
	case ip == nil:
		return fmt.Errorf("metrics address %q is a host name; use a loopback IP address or localhost, or name the address explicitly to allow another", addr)
	case !ip.IsLoopback():
		return fmt.Errorf("metrics address %q is not a loopback address; name it explicitly to allow that", addr)
	}
	return nil
}

// Serve listens on addr (e.g. 127.0.0.1:10255) and serves h until ctx
// ends, then shuts down gracefully and returns nil. An empty addr
// disables the endpoint: Serve returns nil at once. A non-loopback addr is
// refused unless allowNonLoopback is true (see CheckAddr); the daemon
// passes true only when the operator set the address explicitly.
func Serve(ctx context.Context, addr string, allowNonLoopback bool, h http.Handler, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	if addr == "" {
		log.Info("metrics endpoint disabled")
		return nil
	}
	if err := CheckAddr(addr, allowNonLoopback); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	// localhost may resolve to anything: check what was actually bound.
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !allowNonLoopback && !tcp.IP.IsLoopback() {
		ln.Close()
		return fmt.Errorf("metrics address %q bound %s, which is not loopback; name the address explicitly to allow that", addr, tcp)
	}

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		// No WriteTimeout: /debug/pprof/profile streams for its seconds=.
		ErrorLog: zap.NewStdLog(log.Named("http")),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving metrics", zap.String("address", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-errc
		return fmt.Errorf("metrics: shut down server on %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}
