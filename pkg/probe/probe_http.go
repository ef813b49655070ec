package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// maxRedirects is how many same-host redirects an HTTP probe follows.
const maxRedirects = 10

// newHTTPTransport returns the transport of HTTPS probes, set up as
// the kubelet's (pkg/probe/http): no keep-alive, so every probe opens and
// closes its own connection; no proxy from the environment; no compression
// (no Accept-Encoding header); certificates not verified; the SO_LINGER
// dialer, here bounded by the probe's deadline (see dialProbe). HTTP/2 is
// negotiated over TLS as the kubelet's transport does.
func newHTTPTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         dialProbe(newDialer()),
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify, as the kubelet's
		TLSHandshakeTimeout: 10 * time.Second,
		DisableKeepAlives:   true,
		DisableCompression:  true,
		ForceAttemptHTTP2:   true,
	}
}

// sameHostRedirects follows redirects only to the host of the first
// request, at most maxRedirects; a redirect elsewhere ends the request with
// the 3xx response (the kubelet's RedirectChecker(false)).
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// newHTTPProbe returns a probe that GETs a.path from a.host (else podIP)
// at a.port with a's scheme and headers. The whole request, body
// included, is bounded by timeout.
//
// The deadline is the request context's, which probeTransport turns into
// the messages of net/http's Client.Timeout.
func newHTTPProbe(transport *probeTransport, userAgent string, a *v1.HTTPGetAction, c *v1.Container, podIP string, timeout time.Duration) probeFunc {
	target, header, err := httpTarget(a, c, podIP, userAgent)
	if err != nil {
		return func(context.Context) (outcome, string, error) { return outcomeUnknown, "", err }
	}
	client := &http.Client{Transport: transport, CheckRedirect: sameHostRedirects}
	host := header.Get("Host")
	return func(ctx context.Context) (outcome, string, error) {
		deadline := time.Now().Add(timeout)
		ctx, cancel := context.WithDeadline(withProbeDeadline(ctx, deadline), deadline)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return outcomeUnknown, "", fmt.Errorf("http probe of %s: %w", target, err)
		}
		req.Header = header // read-only for the client and transport
		req.Host = host
		return doHTTP(client, req)
	}
}

// httpTarget returns the URL and headers of an HTTP probe, as the
// kubelet's NewRequestForHTTPGetAction.
func httpTarget(a *v1.HTTPGetAction, c *v1.Container, podIP, userAgent string) (string, http.Header, error) {
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host := a.Host
	if host == "" {
		host = podIP
	}
	port, err := resolvePort(a.Port, c)
	if err != nil {
		return "", nil, fmt.Errorf("http probe: %w", err)
	}
	u, err := url.Parse(a.Path)
	if err != nil {
		// A path that does not parse is passed along as it is (the
		// kubelet's formatURL).
		u = &url.URL{Path: a.Path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))

	header := make(http.Header, len(a.HTTPHeaders)+2)
	for _, h := range a.HTTPHeaders {
		header.Add(h.Name, h.Value)
	}
	if _, ok := header["User-Agent"]; !ok {
		header.Set("User-Agent", userAgent)
	}
	if _, ok := header["Accept"]; !ok {
		header.Set("Accept", "*/*")
	} else if header.Get("Accept") == "" {
		header.Del("Accept") // set empty by the probe: send none
	}
	return u.String(), header, nil
}

// doHTTP sends req and judges the response as the kubelet's DoHTTPProbe:
// 200-399 succeed, a 3xx that was not followed succeeds with a warning, and
// anything else fails. The body is read up to maxOutput bytes.
func doHTTP(client *http.Client, req *http.Request) (outcome, string, error) {
	res, err := client.Do(req)
	if err != nil {
		// A refused or timed-out connection is the target's failure.
		return outcomeFailure, err.Error(), nil
	}
	defer res.Body.Close()
	body := io.LimitReader(res.Body, maxOutput)
	if res.StatusCode >= http.StatusMultipleChoices && res.StatusCode < http.StatusBadRequest {
		b, err := io.ReadAll(body)
		if err != nil {
			return bodyFailure(err)
		}
		return outcomeWarning, "Probe terminated redirects, Response body: " + string(b), nil
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return bodyFailure(err)
	}
	if res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusMultipleChoices {
		return outcomeSuccess, "", nil
	}
	// The message carries no body (kubernetes#99425).
	return outcomeFailure, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode), nil
}

// bodyFailure is a response body that could not be read: the kubelet calls
// it an error of the prober, retries the whole request three times and
// then throws the result away, so a server that stalls after its headers
// is never judged and each tick costs three timeouts. It is the target
// that misbehaves, so here it is a failure.
func bodyFailure(err error) (outcome, string, error) {
	return outcomeFailure, "HTTP probe failed reading the response body: " + err.Error(), nil
}
