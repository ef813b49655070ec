package pod

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// hookTimeout bounds a postStart hook, which has no timeout of its own in
// the Pod API (the kubelet waits without limit; minilet does not).
const hookTimeout = 2 * time.Minute

// runHook runs a lifecycle hook (exec or httpGet) against the container id
// and returns why it failed, or nil.
func (w *worker) runHook(ctx context.Context, id string, c *v1.Container, h *v1.LifecycleHandler, timeout time.Duration) error {
	switch {
	case h.Exec != nil:
		res, err := w.d.rt.Exec(ctx, id, h.Exec.Command, timeout)
		switch {
		case err != nil:
			return err
		case res.TimedOut:
			return fmt.Errorf("command %q timed out after %s", h.Exec.Command, timeout)
		case res.ExitCode != 0:
			return fmt.Errorf("command %q exited with %d: %s", h.Exec.Command, res.ExitCode, truncate(res.Output, 1024))
		}
		return nil
	case h.HTTPGet != nil:
		return w.hookHTTP(ctx, c, h.HTTPGet, timeout)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return nil
	}
	return fmt.Errorf("hook has no handler minilet knows")
}

func (w *worker) hookHTTP(ctx context.Context, c *v1.Container, g *v1.HTTPGetAction, timeout time.Duration) error {
	host := g.Host
	if host == "" {
		rec := w.record()
		if len(rec.PodIPs) > 0 {
			host = rec.PodIPs[0]
		}
	}
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == v1.URISchemeHTTPS {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), g.Path)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, h := range g.HTTPHeaders {
		if h.Name == "Host" {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	// As the kubelet's hook requests: no proxy, no keep-alive, and an
	// HTTPS hook does not verify the pod's certificate.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // as the kubelet's
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// resolvePort turns a numbered or named port into a number.
func resolvePort(p intstr.IntOrString, c *v1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("no port named %q in container %s", p.StrVal, c.Name)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
