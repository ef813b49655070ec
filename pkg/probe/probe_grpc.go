package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
)

// newGRPCProbe returns a probe that calls grpc.health.v1.Health/Check on
// podIP at a.port, with a.service if set, as the kubelet's gRPC prober:
// insecure, a blocking dial, one context bounded by timeout for the dial
// and the call. Only SERVING is a success; every error is a failure.
func newGRPCProbe(a *v1.GRPCAction, podIP, userAgent string, timeout time.Duration) probeFunc {
	addr := net.JoinHostPort(podIP, strconv.Itoa(int(a.Port)))
	service := ""
	if a.Service != nil {
		service = *a.Service
	}
	dialer := newDialer()
	opts := []grpc.DialOption{
		grpc.WithUserAgent(userAgent),
		grpc.WithBlock(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", addr)
		}),
	}
	return func(ctx context.Context) (outcome, string, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := grpc.DialContext(ctx, addr, opts...) //nolint:staticcheck // the kubelet's blocking dial
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return outcomeFailure, fmt.Sprintf("timeout: failed to connect service %q within %v: %+v", addr, timeout, err), nil
			}
			return outcomeFailure, fmt.Sprintf("error: failed to connect service at %q: %+v", addr, err), nil
		}
		defer conn.Close()

		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			switch status.Code(err) {
			case codes.Unimplemented:
				return outcomeFailure, fmt.Sprintf("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", status.Convert(err).Message()), nil
			case codes.DeadlineExceeded:
				return outcomeFailure, fmt.Sprintf("timeout: health rpc did not complete within %v", timeout), nil
			}
			return outcomeFailure, fmt.Sprintf("error: health rpc probe failed: %+v", err), nil
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return outcomeFailure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()), nil
		}
		return outcomeSuccess, "service healthy", nil
	}
}
