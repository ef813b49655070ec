package probe

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// testMux is an HTTP server with the paths the probe tests need, in the
// manner of agnhost's liveness server.
func testMux(t *testing.T, seen chan<- *http.Request) *http.ServeMux {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.WriteHeader(code)
		fmt.Fprint(w, "secret body")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("loc"), http.StatusFound)
	})
	mux.HandleFunc("/hops", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n == 0 {
			fmt.Fprint(w, "done")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hops?n=%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("y", 4096))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	return mux
}

func hostPort(t testing.TB, rawURL string) (string, int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}

func TestHTTPProbe(t *testing.T) {
	srv := httptest.NewServer(testMux(t, nil))
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(testMux(t, nil))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	host, port := hostPort(t, srv.URL)
	_, tlsPort := hostPort(t, tlsSrv.URL)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort := hostPort(t, "http://"+closed.Addr().String())
	closed.Close()

	container := &v1.Container{Ports: []v1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	cases := []struct {
		name    string
		action  v1.HTTPGetAction
		podIP   string
		timeout time.Duration
		want    outcome
		msg     string // the output, or its start when it ends in "*"
		wantErr bool
	}{
		{"200", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(port)}, host, 0, outcomeSuccess, "", false},
		{"204", v1.HTTPGetAction{Path: "/status/204", Port: intstr.FromInt(port)}, host, 0, outcomeSuccess, "", false},
		{"399", v1.HTTPGetAction{Path: "/status/399", Port: intstr.FromInt(port)}, host, 0, outcomeWarning, "Probe terminated redirects, Response body: secret body", false},
		{"400", v1.HTTPGetAction{Path: "/status/400", Port: intstr.FromInt(port)}, host, 0, outcomeFailure, "HTTP probe failed with statuscode: 400", false},
		{"500 has no body in the message", v1.HTTPGetAction{Path: "/status/500", Port: intstr.FromInt(port)}, host, 0,
			outcomeFailure, "HTTP probe failed with statuscode: 500", false},
		{"local redirect followed", v1.HTTPGetAction{Path: "/redirect?loc=%2Fok", Port: intstr.FromInt(port)}, host, 0, outcomeSuccess, "", false},
		{"local redirect to a failure", v1.HTTPGetAction{Path: "/redirect?loc=%2Fstatus%2F500", Port: intstr.FromInt(port)}, host, 0,
			outcomeFailure, "HTTP probe failed with statuscode: 500", false},
		{"non-local redirect is a warning", v1.HTTPGetAction{Path: "/redirect?loc=http://0.0.0.0/", Port: intstr.FromInt(port)}, host, 0,
			outcomeWarning, "Probe terminated redirects, Response body: <a href=\"http://0.0.0.0/\">Found</a>.\n\n", false},
		{"9 redirects followed", v1.HTTPGetAction{Path: "/hops?n=9", Port: intstr.FromInt(port)}, host, 0, outcomeSuccess, "", false},
		{"10 redirects too many", v1.HTTPGetAction{Path: "/hops?n=10", Port: intstr.FromInt(port)}, host, 0,
			outcomeFailure, fmt.Sprintf(`Get "/hops?n=0": stopped after 10 redirects`), false},
		{"304 is a warning", v1.HTTPGetAction{Path: "/status/304", Port: intstr.FromInt(port)}, host, 0,
			outcomeWarning, "Probe terminated redirects, Response body: ", false},
		{"https, certificate not verified", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(tlsPort), Scheme: v1.URISchemeHTTPS}, host, 0, outcomeSuccess, "", false},
		{"http to an https port", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(tlsPort)}, host, 0,
			outcomeFailure, "HTTP probe failed with statuscode: 400", false},
		{"named port", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("http")}, host, 0, outcomeSuccess, "", false},
		{"number as string", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromString(strconv.Itoa(port))}, host, 0, outcomeSuccess, "", false},
		{"unknown port name", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("metrics")}, host, 0, outcomeUnknown, "", true},
		{"port 0", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(0)}, host, 0, outcomeUnknown, "", true},
		{"host field wins over pod IP", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(port), Host: host}, "192.0.2.1", 0, outcomeSuccess, "", false},
		{"connection refused", v1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt(closedPort)}, host, 0,
			outcomeFailure, fmt.Sprintf(`Get "http://127.0.0.1:%d/ok": dial tcp 127.0.0.1:%d: connect: connection refused`, closedPort, closedPort), false},
		{"no answer within the timeout", v1.HTTPGetAction{Path: "/slow", Port: intstr.FromInt(port)}, host, 100 * time.Millisecond,
			outcomeFailure, fmt.Sprintf(`Get "http://127.0.0.1:%d/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, port), false},
		{"body stalls", v1.HTTPGetAction{Path: "/stall-body", Port: intstr.FromInt(port)}, host, 100 * time.Millisecond,
			outcomeFailure, "HTTP probe failed reading the response body: *", false},
		{"endless body", v1.HTTPGetAction{Path: "/endless", Port: intstr.FromInt(port)}, host, 0, outcomeSuccess, "", false},
	}
	tr := newProbeTransport()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			timeout := c.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			o, msg, err := newHTTPProbe(tr, "minilet-probe/test", &c.action, container, c.podIP, timeout)(context.Background())
			if o != c.want || (err != nil) != c.wantErr {
				t.Fatalf("got %v %q %v; want %v err=%v", o, msg, err, c.want, c.wantErr)
			}
			if prefix, ok := strings.CutSuffix(c.msg, "*"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Fatalf("message %q, want it to start with %q", msg, prefix)
				}
			} else if msg != c.msg {
				t.Fatalf("message %q, want %q", msg, c.msg)
			}
		})
	}
}

func TestHTTPProbeHeaders(t *testing.T) {
	seen := make(chan *http.Request, 1)
	srv := httptest.NewServer(testMux(t, seen))
	defer srv.Close()
	host, port := hostPort(t, srv.URL)
	cases := []struct {
		name    string
		headers []v1.HTTPHeader
		check   func(r *http.Request) string
	}{
		{"defaults", nil, func(r *http.Request) string {
			if ua := r.Header.Get("User-Agent"); ua != "minilet-probe/test" {
				return "User-Agent " + ua
			}
			if a := r.Header.Values("Accept"); len(a) != 1 || a[0] != "*/*" {
				return fmt.Sprintf("Accept %q", a)
			}
			if ae := r.Header.Get("Accept-Encoding"); ae != "" {
				return "Accept-Encoding " + ae // compression is off
			}
			if !r.Close {
				return "no Connection: close (keep-alive is off)"
			}
			if r.Host != net.JoinHostPort(host, strconv.Itoa(port)) {
				return "Host " + r.Host
			}
			if r.URL.RawQuery != "x=1" {
				return "query " + r.URL.RawQuery
			}
			return ""
		}},
		{"Host header sets the host", []v1.HTTPHeader{{Name: "Host", Value: "example.com"}}, func(r *http.Request) string {
			if r.Host != "example.com" {
				return "Host " + r.Host
			}
			return ""
		}},
		{"probe's User-Agent and Accept win", []v1.HTTPHeader{{Name: "user-agent", Value: "mine"}, {Name: "Accept", Value: "text/plain"}}, func(r *http.Request) string {
			if r.Header.Get("User-Agent") != "mine" || r.Header.Get("Accept") != "text/plain" {
				return fmt.Sprintf("headers %v", r.Header)
			}
			return ""
		}},
		{"empty Accept removes it", []v1.HTTPHeader{{Name: "Accept", Value: ""}}, func(r *http.Request) string {
			if _, ok := r.Header["Accept"]; ok {
				return fmt.Sprintf("Accept %q", r.Header.Values("Accept"))
			}
			return ""
		}},
		{"repeated headers", []v1.HTTPHeader{{Name: "X-Token", Value: "a"}, {Name: "X-Token", Value: "b"}}, func(r *http.Request) string {
			if v := r.Header.Values("X-Token"); len(v) != 2 {
				return fmt.Sprintf("X-Token %q", v)
			}
			return ""
		}},
	}
	tr := newProbeTransport()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &v1.HTTPGetAction{Path: "/ok?x=1", Port: intstr.FromInt(port), HTTPHeaders: c.headers}
			probe := newHTTPProbe(tr, "minilet-probe/test", a, nil, host, 5*time.Second)
			// Twice: the prepared headers must survive a run.
			for range 2 {
				if o, msg, err := probe(context.Background()); o != outcomeSuccess || err != nil {
					t.Fatalf("probe: %v %q %v", o, msg, err)
				}
				if problem := c.check(<-seen); problem != "" {
					t.Fatal(problem)
				}
			}
		})
	}
}

func TestHTTPProbeRedirectKeepsHostHeader(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
		}
	}))
	defer srv.Close()
	host, port := hostPort(t, srv.URL)
	a := &v1.HTTPGetAction{Path: "/start", Port: intstr.FromInt(port), HTTPHeaders: []v1.HTTPHeader{{Name: "Host", Value: "app.example"}}}
	if o, msg, err := newHTTPProbe(newProbeTransport(), "ua", a, nil, host, 5*time.Second)(context.Background()); o != outcomeSuccess {
		t.Fatalf("%v %q %v", o, msg, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hosts) != 2 || hosts[0] != "app.example" || hosts[1] != "app.example" {
		t.Fatalf("hosts %q", hosts)
	}
}

func TestHTTPTransportSettings(t *testing.T) {
	// The environment's proxy must not apply (ProxyFromEnvironment skips
	// loopback anyway, so check the setting itself).
	tr := newProbeTransport().tls
	if tr.Proxy != nil || !tr.DisableKeepAlives || !tr.DisableCompression || !tr.TLSClientConfig.InsecureSkipVerify || tr.DialContext == nil {
		t.Fatalf("transport %+v", tr)
	}
}

// rawRequest returns the bytes of the first request a probe with tr sends
// to ln, which answers 200.
func rawRequest(t *testing.T, ln net.Listener, tr http.RoundTripper, a v1.HTTPGetAction) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		var buf []byte
		b := make([]byte, 4096)
		for !strings.Contains(string(buf), "\r\n\r\n") {
			n, err := conn.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil {
				break
			}
		}
		got <- string(buf)
		fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}()
	_, port := hostPort(t, "http://"+ln.Addr().String())
	a.Port = intstr.FromInt(port)
	target, header, err := httpTarget(&a, nil, "127.0.0.1", "kube-probe/1.34")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header, req.Host = header, header.Get("Host")
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return <-got
}

// requestLines returns a raw request's request line and its header lines,
// sorted: the order of header fields carries no meaning in HTTP.
func requestLines(raw string) []string {
	lines := strings.Split(strings.TrimSuffix(raw, "\r\n\r\n"), "\r\n")
	slices.Sort(lines[1:])
	return lines
}

// TestPlainTransportWire checks that a plain-HTTP probe sends what
// net/http's Transport, set up as the kubelet's, sends: the same request
// line and header fields ("Connection: close", no Accept-Encoding), in the
// same order but for "Connection: close", which net/http writes last.
func TestPlainTransportWire(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, a := range []v1.HTTPGetAction{
		{Path: "/healthz"},
		{Path: "/a%20b?x=1&y=%2F", HTTPHeaders: []v1.HTTPHeader{{Name: "Host", Value: "app.example"}, {Name: "X-Token", Value: "t1"}, {Name: "X-Token", Value: "t2"}}},
		{Path: "", HTTPHeaders: []v1.HTTPHeader{{Name: "Accept", Value: ""}, {Name: "User-Agent", Value: "mine"}}},
	} {
		want := rawRequest(t, ln, newHTTPTransport(), a)
		got := rawRequest(t, ln, newProbeTransport(), a)
		if !slices.Equal(requestLines(got), requestLines(want)) {
			t.Errorf("path %q: probe transport sent\n%q\nnet/http's Transport sends\n%q", a.Path, got, want)
		}
		if !strings.Contains(got, "\r\nConnection: close\r\n") || strings.Contains(got, "Accept-Encoding") {
			t.Errorf("path %q: request %q", a.Path, got)
		}
	}
}
