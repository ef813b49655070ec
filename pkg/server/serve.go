package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// shutdownGrace bounds how long Serve waits for requests under way when
// its context ends.
const shutdownGrace = 5 * time.Second

// Serve listens on <runDir>/minilet.sock and serves the API until ctx
// ends; then it removes the socket.
func (s *Server) Serve(ctx context.Context, runDir string) error {
	ln, err := Listen(runDir)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves the API on ln until ctx ends, and closes ln.
// Tests use it with Listen to know the socket is ready before serving.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	errLog, err := zap.NewStdLogAt(s.log, zap.WarnLevel)
	if err != nil {
		ln.Close()
		return fmt.Errorf("API server logger: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan struct{})
	shutdownDone := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
		case <-served:
			shutdownDone <- nil
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			srv.Close()
		}
		shutdownDone <- err
	}()
	s.log.Info("serving the local API", zap.String("address", ln.Addr().String()))
	err = srv.Serve(ln)
	close(served)
	shutErr := <-shutdownDone
	ln.Close() // the server closed it already, unless Serve failed; closing twice is harmless
	if errors.Is(err, http.ErrServerClosed) {
		if shutErr != nil {
			return fmt.Errorf("shut the API server down: %w", shutErr)
		}
		return nil
	}
	return fmt.Errorf("serve the local API: %w", err)
}
