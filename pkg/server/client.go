package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// clientTimeout bounds one request of the Client.
const clientTimeout = 10 * time.Second

// maxAnswer bounds the size of an answer the client reads.
const maxAnswer = 64 << 20

// Client talks to the daemon's API over its Unix socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client of the daemon whose socket is in runDir.
func NewClient(runDir string) *Client {
	sock := SocketPath(runDir)
	dialer := &net.Dialer{Timeout: clientTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
		MaxIdleConns:       2,
		IdleConnTimeout:    30 * time.Second,
	}
	return &Client{socket: sock, http: &http.Client{Transport: tr, Timeout: clientTimeout}}
}

// Health returns nil when the daemon answers healthy, and its complaint
// otherwise.
func (c *Client) Health(ctx context.Context) error {
	body, err := c.get(ctx, "/healthz")
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(string(body)); s != "ok" {
		return fmt.Errorf("daemon health: unexpected answer %q", s)
	}
	return nil
}

// ListPods returns the pods of namespace, or of every namespace when
// namespace is "".
func (c *Client) ListPods(ctx context.Context, namespace string) (*v1.PodList, error) {
	return c.ListPodsWhere(ctx, namespace, PodSelector{})
}

// ListPodsWhere is ListPods for the pods that match sel.
func (c *Client) ListPodsWhere(ctx context.Context, namespace string, sel PodSelector) (*v1.PodList, error) {
	p := "/api/v1/pods"
	if namespace != "" {
		p = "/api/v1/namespaces/" + url.PathEscape(namespace) + "/pods"
	}
	q := url.Values{}
	sel.query(q)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	list := &v1.PodList{}
	if err := c.getJSON(ctx, p, list); err != nil {
		return nil, err
	}
	return list, nil
}

// GetPod returns the pod namespace/name. A missing pod is an error for
// which IsNotFound is true, reading `pods "name" not found`.
func (c *Client) GetPod(ctx context.Context, namespace, name string) (*v1.Pod, error) {
	pod := &v1.Pod{}
	if err := c.getJSON(ctx, podPath(namespace, name), pod); err != nil {
		return nil, err
	}
	return pod, nil
}

// PodEvents returns the events of the pod namespace/name, oldest first.
func (c *Client) PodEvents(ctx context.Context, namespace, name string) (*v1.EventList, error) {
	list := &v1.EventList{}
	if err := c.getJSON(ctx, podPath(namespace, name)+"/events", list); err != nil {
		return nil, err
	}
	return list, nil
}

// ManifestErrors returns the daemon's current manifest problems, one line
// per bad file.
func (c *Client) ManifestErrors(ctx context.Context) ([]string, error) {
	var list ManifestErrorList
	if err := c.getJSON(ctx, "/api/v1/manifesterrors", &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func podPath(namespace, name string) string {
	return "/api/v1/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(name)
}

func (c *Client) getJSON(ctx context.Context, path string, into any) error {
	body, err := c.get(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("decode the daemon's answer to GET %s: %w", path, err)
	}
	return nil
}

// get sends GET path and returns the body of a 200 answer. Other answers
// become a *StatusError.
func (c *Client) get(ctx context.Context, path string) ([]byte, error) {
	return c.do(ctx, c.http, http.MethodGet, path)
}

// do sends method path with hc and returns the body of a 200 answer.
// Other answers become a *StatusError.
func (c *Client) do(ctx context.Context, hc *http.Client, method, path string) ([]byte, error) {
	return c.send(ctx, hc, method, path, "", nil)
}

// doBody is do with a request body of the given content type.
func (c *Client) doBody(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	return c.send(ctx, c.http, method, path, contentType, body)
}

func (c *Client) send(ctx context.Context, hc *http.Client, method, path, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://minilet"+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.dialError(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("read the daemon's answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	return nil, answerError(resp.StatusCode, answer)
}

// answerError turns a non-200 answer into a *StatusError, from its Status
// body if it has one.
func answerError(code int, body []byte) error {
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil || st.Kind != "Status" {
		msg := strings.TrimSpace(string(body))
		if msg == "" {
			msg = http.StatusText(code)
		}
		st = metav1.Status{Status: metav1.StatusFailure, Message: msg, Code: int32(code)}
	}
	if st.Code == 0 {
		st.Code = int32(code)
	}
	if st.Reason == "" {
		st.Reason = reasonForCode(code)
	}
	return &StatusError{Status: st}
}

func reasonForCode(code int) metav1.StatusReason {
	switch code {
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusMethodNotAllowed:
		return metav1.StatusReasonMethodNotAllowed
	case http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	case http.StatusInternalServerError:
		return metav1.StatusReasonInternalError
	}
	return metav1.StatusReasonUnknown
}

// dialError explains a failed request; a missing or dead socket gets a
// hint.
func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach the minilet daemon at %s: is it running? (set --run-dir or MINILET_RUN_DIR)", c.socket)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot reach the minilet daemon at %s: permission denied (run as root?)", c.socket)
	}
	return fmt.Errorf("talk to the minilet daemon at %s: %w", c.socket, err)
}
