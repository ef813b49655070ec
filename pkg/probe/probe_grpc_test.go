package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	v1 "k8s.io/api/core/v1"
)

// grpcServer serves gRPC on a loopback port, with the health service if
// withHealth. It returns the port and the health server to set statuses on.
func grpcServer(t testing.TB, withHealth bool) (int, *health.Server, <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agents := make(chan string, 100)
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		select {
		case agents <- strings.Join(md.Get("user-agent"), ","):
		default:
		}
		return h(ctx, req)
	}))
	hs := health.NewServer()
	if withHealth {
		healthpb.RegisterHealthServer(s, hs)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return l.Addr().(*net.TCPAddr).Port, hs, agents
}

func TestGRPCProbe(t *testing.T) {
	port, hs, agents := grpcServer(t, true)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	noHealth, _, _ := grpcServer(t, false)
	_, hangPort := listen(t) // accepts TCP, never speaks HTTP/2
	closed := closedPort(t)
	str := func(s string) *string { return &s }

	cases := []struct {
		name    string
		action  v1.GRPCAction
		timeout time.Duration
		want    outcome
		msg     string // exact, or a prefix when it ends in "*"
	}{
		{"serving", v1.GRPCAction{Port: int32(port)}, time.Second, outcomeSuccess, "service healthy"},
		{"service serving", v1.GRPCAction{Port: int32(port), Service: str("api")}, time.Second, outcomeSuccess, "service healthy"},
		{"service not serving", v1.GRPCAction{Port: int32(port), Service: str("db")}, time.Second,
			outcomeFailure, `service unhealthy (responded with "NOT_SERVING")`},
		{"unknown service", v1.GRPCAction{Port: int32(port), Service: str("nope")}, time.Second,
			outcomeFailure, "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"},
		{"no health service", v1.GRPCAction{Port: int32(noHealth)}, time.Second,
			outcomeFailure, "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"},
		{"wrong port", v1.GRPCAction{Port: int32(closed)}, 200 * time.Millisecond,
			outcomeFailure, fmt.Sprintf(`timeout: failed to connect service "127.0.0.1:%d" within 200ms: *`, closed)},
		{"not gRPC", v1.GRPCAction{Port: int32(hangPort)}, 200 * time.Millisecond,
			outcomeFailure, fmt.Sprintf(`timeout: failed to connect service "127.0.0.1:%d" within 200ms: *`, hangPort)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			o, msg, err := newGRPCProbe(&c.action, "127.0.0.1", "minilet-probe/test", c.timeout)(context.Background())
			if o != c.want || err != nil {
				t.Fatalf("got %v %q %v; want %v", o, msg, err, c.want)
			}
			if prefix, ok := strings.CutSuffix(c.msg, "*"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Fatalf("message %q, want it to start with %q", msg, prefix)
				}
			} else if msg != c.msg {
				t.Fatalf("message %q, want %q", msg, c.msg)
			}
			if d := time.Since(start); d > c.timeout+500*time.Millisecond {
				t.Fatalf("took %v with a %v timeout", d, c.timeout)
			}
		})
	}
	if ua := <-agents; !strings.HasPrefix(ua, "minilet-probe/test") {
		t.Fatalf("user agent %q", ua)
	}
}
