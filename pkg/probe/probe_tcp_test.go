package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// listen returns a listener on a loopback port that accepts connections
// and holds them until the test ends.
func listen(t testing.TB) (net.Listener, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l, l.Addr().(*net.TCPAddr).Port
}

func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestTCPProbe(t *testing.T) {
	_, port := listen(t)
	closed := closedPort(t)
	container := &v1.Container{Ports: []v1.ContainerPort{{Name: "db", ContainerPort: int32(port)}}}
	cases := []struct {
		name    string
		action  v1.TCPSocketAction
		podIP   string
		want    outcome
		msg     string
		wantErr bool
	}{
		{"listening", v1.TCPSocketAction{Port: intstr.FromInt(port)}, "127.0.0.1", outcomeSuccess, "", false},
		{"named port", v1.TCPSocketAction{Port: intstr.FromString("db")}, "127.0.0.1", outcomeSuccess, "", false},
		{"host field", v1.TCPSocketAction{Port: intstr.FromInt(port), Host: "127.0.0.1"}, "192.0.2.1", outcomeSuccess, "", false},
		{"refused", v1.TCPSocketAction{Port: intstr.FromInt(closed)}, "127.0.0.1", outcomeFailure,
			fmt.Sprintf("dial tcp 127.0.0.1:%d: connect: connection refused", closed), false},
		{"unknown port name", v1.TCPSocketAction{Port: intstr.FromString("web")}, "127.0.0.1", outcomeUnknown, "", true},
		{"port out of range", v1.TCPSocketAction{Port: intstr.FromInt(70000)}, "127.0.0.1", outcomeUnknown, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, msg, err := newTCPProbe(&c.action, container, c.podIP, time.Second)(context.Background())
			if o != c.want || msg != c.msg || (err != nil) != c.wantErr {
				t.Fatalf("got %v %q %v; want %v %q err=%v", o, msg, err, c.want, c.msg, c.wantErr)
			}
		})
	}
}

func TestTCPProbeTimeout(t *testing.T) {
	// 192.0.2.0/24 (TEST-NET-1) is not routed: the SYN goes unanswered,
	// or the network says unreachable at once. Either way a failure,
	// within the timeout.
	a := &v1.TCPSocketAction{Port: intstr.FromInt(80)}
	start := time.Now()
	o, msg, err := newTCPProbe(a, nil, "192.0.2.1", 200*time.Millisecond)(context.Background())
	if o != outcomeFailure || err != nil || !strings.HasPrefix(msg, "dial tcp 192.0.2.1:80: ") {
		t.Fatalf("got %v %q %v", o, msg, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v with a 200ms timeout", d)
	}
}

func TestDialerSetsLinger(t *testing.T) {
	_, port := listen(t)
	c, err := newDialer().Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var l *unix.Linger
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		l, gerr = unix.GetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if l.Onoff != 1 || l.Linger != 1 {
		t.Fatalf("SO_LINGER %+v, want on, 1s", l)
	}
}
