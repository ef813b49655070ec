package server

// The log endpoint, as the Kubernetes API's pods/log subresource:
//
//	GET /api/v1/namespaces/{ns}/pods/{name}/log   text/plain, streamed
//
// with the query parameters container, previous, follow, timestamps,
// tailLines, sinceSeconds and sinceTime. Errors before the first byte are
// Status bodies worded as the API server and the kubelet word them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/containerlog"
)

// LogLocator is implemented by a PodSource that knows where its
// containers' logs are. Without it the log endpoint answers 503.
type LogLocator interface {
	// ContainerLog returns the log file of a container of the pod
	// namespace/pod: of its current instance, or with previous of the one
	// its status shows as the last termination. running tells whether that
	// instance still runs; a follower stops once it does not, or once the
	// current instance's file is another one.
	ContainerLog(namespace, pod, container string, previous bool) (path string, running bool, err error)
}

// LogOptions select the log Client.Logs asks for, as kubectl logs' flags.
type LogOptions struct {
	Container  string // may be empty when the pod has one container
	Previous   bool   // the previous instance's log
	Follow     bool   // stream new lines until the container stops
	Timestamps bool   // start each line with its RFC3339Nano timestamp
	// TailLines keeps the last lines, like kubectl's --tail: a negative
	// value (AllLines) keeps them all, 0 none.
	TailLines int
	// SinceSeconds (> 0) or SinceTime (not zero), at most one, leave out
	// older lines.
	SinceSeconds int64
	SinceTime    time.Time
}

// AllLines is the TailLines that keeps every line.
const AllLines = -1

// Logs writes the log of a container of the pod namespace/pod to w as it
// comes; with Follow it returns when the container stops or ctx ends. An
// error answer is a *StatusError, e.g. `a container name must be specified
// for pod web, choose one of: [a b]`.
func (c *Client) Logs(ctx context.Context, namespace, pod string, opts LogOptions, w io.Writer) error {
	p := podPath(namespace, pod) + "/log"
	if q := opts.query(); len(q) > 0 {
		p += "?" + q.Encode()
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://minilet"+p, nil)
	if err != nil {
		return fmt.Errorf("build request GET %s: %w", p, err)
	}
	// A log streams for as long as it lasts: only the wait for the answer
	// is bounded.
	hc := &http.Client{Transport: c.http.Transport}
	timer := time.AfterFunc(clientTimeout, cancel)
	resp, err := hc.Do(req)
	if !timer.Stop() && ctx.Err() == nil {
		if err == nil {
			resp.Body.Close()
		}
		return fmt.Errorf("the minilet daemon at %s did not answer within %s", c.socket, clientTimeout)
	}
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return fmt.Errorf("read the daemon's answer to GET %s: %w", p, err)
		}
		return answerError(resp.StatusCode, body)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read the log of pod %s/%s: %w", namespace, pod, err)
	}
	return nil
}

func (o LogOptions) query() url.Values {
	q := url.Values{}
	if o.Container != "" {
		q.Set("container", o.Container)
	}
	for name, on := range map[string]bool{"previous": o.Previous, "follow": o.Follow, "timestamps": o.Timestamps} {
		if on {
			q.Set(name, "true")
		}
	}
	if o.TailLines >= 0 {
		q.Set("tailLines", strconv.Itoa(o.TailLines))
	}
	if o.SinceSeconds > 0 {
		q.Set("sinceSeconds", strconv.FormatInt(o.SinceSeconds, 10))
	}
	if !o.SinceTime.IsZero() {
		q.Set("sinceTime", o.SinceTime.UTC().Format(time.RFC3339))
	}
	return q
}

// logRequest is a parsed log query.
type logRequest struct {
	container  string
	previous   bool
	follow     bool
	timestamps bool
	tail       int
	since      time.Time
}

func parseLogQuery(q url.Values, now time.Time) (logRequest, error) {
	req := logRequest{container: q.Get("container"), tail: -1}
	for name, dst := range map[string]*bool{"previous": &req.previous, "follow": &req.follow, "timestamps": &req.timestamps} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return req, fmt.Errorf("%s: Invalid value: %q: must be true or false", name, v)
			}
			*dst = b
		}
	}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, fmt.Errorf("tailLines: Invalid value: %q: must be greater than or equal to 0", v)
		}
		req.tail = n
	}
	secs, when := q.Get("sinceSeconds"), q.Get("sinceTime")
	if secs != "" && when != "" {
		return req, errors.New("at most one of `sinceTime` or `sinceSeconds` may be specified")
	}
	if secs != "" {
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || n < 1 {
			return req, fmt.Errorf("sinceSeconds: Invalid value: %q: must be greater than 0", secs)
		}
		req.since = now.Add(-time.Duration(min(n, 1<<32)) * time.Second)
	}
	if when != "" {
		t, err := time.Parse(time.RFC3339, when)
		if err != nil {
			return req, fmt.Errorf("sinceTime: Invalid value: %q: must be an RFC3339 time", when)
		}
		req.since = t
	}
	return req, nil
}

func (s *Server) handlePodLog(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	pod, ok := s.findPod(ns, name)
	if !ok {
		writeStatus(w, podNotFound(name))
		return
	}
	req, err := parseLogQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeStatus(w, badLogRequest(err.Error()))
		return
	}
	container, err := logContainer(&pod, req.container)
	if err != nil {
		writeStatus(w, badLogRequest(err.Error()))
		return
	}
	if err := checkLogStatus(&pod, container, req.previous); err != nil {
		writeStatus(w, badLogRequest(err.Error()))
		return
	}
	loc := s.logs
	if loc == nil {
		writeStatus(w, unavailable(errors.New("this daemon does not serve container logs")))
		return
	}
	path, running, err := loc.ContainerLog(ns, name, container, req.previous)
	if err != nil {
		writeStatus(w, badLogRequest(err.Error()))
		return
	}
	follow := req.follow && running && !req.previous
	opts := containerlog.Options{Tail: req.tail, Since: req.since, Timestamps: req.timestamps, Follow: follow}
	if follow {
		opts.Done = func() bool {
			p, running, err := loc.ContainerLog(ns, name, container, false)
			return err != nil || !running || p != path
		}
	}
	rd, err := containerlog.Open(path, opts)
	if errors.Is(err, fs.ErrNotExist) {
		writeStatus(w, badLogRequest(fmt.Sprintf("container %q in pod %q has no log file (%s)", container, name, path)))
		return
	}
	if err != nil {
		writeStatus(w, internalError(fmt.Sprintf("open the log of container %q in pod %q: %v", container, name, err)))
		return
	}
	defer rd.Close()

	rc := http.NewResponseController(w)
	if follow {
		// The server's timeouts bound requests, not a log that streams for
		// as long as the container runs.
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	err = rd.Copy(r.Context(), flushWriter{w: w, rc: rc})
	if err != nil && r.Context().Err() == nil {
		s.log.Warn("stream a container log", zap.String("namespace", ns), zap.String("pod", name),
			zap.String("container", container), zap.String("path", path), zap.Error(err))
	}
}

// flushWriter sends what is written at once, so that a followed log
// reaches the client as it grows.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := f.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, err
	}
	return n, nil
}

// logContainer picks the container whose log is asked for, as the API
// server does: the only one when none is named.
func logContainer(pod *v1.Pod, container string) (string, error) {
	if container == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", fmt.Errorf("a container name must be specified for pod %s", pod.Name)
		}
		var names []string
		for _, c := range pod.Spec.InitContainers {
			names = append(names, c.Name)
		}
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		for _, c := range pod.Spec.EphemeralContainers {
			names = append(names, c.Name)
		}
		return "", fmt.Errorf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
	}
	if specOf(pod, container) != nil {
		return container, nil
	}
	return "", fmt.Errorf("container %s is not valid for pod %s", container, pod.Name)
}

// checkLogStatus tells, as the kubelet does, whether the container has a
// log to show: a previous instance when previous is set, else a running
// or terminated one.
func checkLogStatus(pod *v1.Pod, container string, previous bool) error {
	var cs *v1.ContainerStatus
	for _, list := range [][]v1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				cs = &list[i]
				break
			}
		}
		if cs != nil {
			break
		}
	}
	if cs == nil {
		return fmt.Errorf("container %q in pod %q is not available", container, pod.Name)
	}
	last := cs.LastTerminationState.Terminated
	switch st := cs.State; {
	case previous:
		if last == nil {
			return fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
		}
	case st.Running != nil, st.Terminated != nil, last != nil:
	case st.Waiting != nil:
		switch st.Waiting.Reason {
		case "ErrImagePull":
			return fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", container, pod.Name)
		case "ImagePullBackOff":
			return fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", container, pod.Name)
		}
		return fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod.Name, st.Waiting.Reason)
	default:
		return fmt.Errorf("container %q in pod %q is waiting to start - no logs yet", container, pod.Name)
	}
	return nil
}

// badLogRequest is a 400 answer to a log request.
func badLogRequest(msg string) metav1.Status {
	return newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, msg)
}
