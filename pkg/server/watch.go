package server

// Watching pods, as the Kubernetes API does it: with ?watch=true the pod
// list (all namespaces, one namespace) and the single pod path answer a
// stream of newline-delimited watch events,
//
//	{"type":"ADDED","object":{"kind":"Pod",...}}
//
// first ADDED for every pod there is, then ADDED, MODIFIED and DELETED as
// pods come, change and go. With allowWatchBookmarks=true a BOOKMARK
// event whose object carries the annotation k8s.io/initial-events-end
// follows the first ADDED events, as with the API's sendInitialEvents.
// The server finds changes by polling the PodSource.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// watchPollInterval is how often a watch compares the pods with what it
// last sent.
const watchPollInterval = 200 * time.Millisecond

// watchable answers a watch when the request asks for one (?watch=true),
// and passes other requests to h.
func (s *Server) watchable(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		on, err := queryBool(q, "watch")
		if err != nil {
			writeStatus(w, badRequest(err.Error()))
			return
		}
		if !on {
			h(w, r)
			return
		}
		bookmarks, err := queryBool(q, "allowWatchBookmarks")
		if err != nil {
			writeStatus(w, badRequest(err.Error()))
			return
		}
		s.watchPods(w, r, bookmarks)
	}
}

func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// podKey names one pod object: a pod replaced under the same name is
// another object, deleted while the new one is added.
type podKey struct{ namespace, name, uid string }

func keyOf(p *v1.Pod) podKey { return podKey{p.Namespace, p.Name, string(p.UID)} }

// podWatch is the state of one watch: the pods as last sent.
type podWatch struct {
	namespace, name string // "" for all
	sent            map[podKey]v1.Pod
}

// events returns what changed between the pods last sent and pods, and
// remembers pods: ADDED and MODIFIED in the order of pods, then DELETED
// in key order.
func (pw *podWatch) events(pods []v1.Pod) []watch.Event {
	var evs []watch.Event
	next := make(map[podKey]v1.Pod, len(pods))
	for i := range pods {
		p := &pods[i]
		if (pw.namespace != "" && p.Namespace != pw.namespace) || (pw.name != "" && p.Name != pw.name) {
			continue
		}
		k := keyOf(p)
		if _, dup := next[k]; dup {
			continue
		}
		next[k] = *p
		var typ watch.EventType
		switch old, ok := pw.sent[k]; {
		case !ok:
			typ = watch.Added
		case !equality.Semantic.DeepEqual(old, *p):
			typ = watch.Modified
		default:
			continue
		}
		evs = append(evs, watch.Event{Type: typ, Object: podObject(*p)})
	}
	var gone []podKey
	for k := range pw.sent {
		if _, ok := next[k]; !ok {
			gone = append(gone, k)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		a, b := gone[i], gone[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.uid < b.uid
	})
	for _, k := range gone {
		evs = append(evs, watch.Event{Type: watch.Deleted, Object: podObject(pw.sent[k])})
	}
	pw.sent = next
	return evs
}

// podObject is a pod as an event's object, with its kind.
func podObject(p v1.Pod) *v1.Pod {
	p.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	return &p
}

// initialEventsEnd is the bookmark sent after the first ADDED events.
func initialEventsEnd() *v1.Pod {
	return &v1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}},
	}
}

// watchPods streams pod events until the client goes away or the server
// stops.
func (s *Server) watchPods(w http.ResponseWriter, r *http.Request, bookmarks bool) {
	ctx := r.Context()
	sel, ok := selectorOf(w, r)
	if !ok {
		return
	}
	pw := &podWatch{namespace: r.PathValue("namespace"), name: r.PathValue("name")}
	// A pod that stops matching is gone from the watch (DELETED), as the
	// API server's watch cache filters.
	initial := pw.events(sel.filter(s.src.Pods()))

	// A watch lasts as long as the client wants it: beyond the server's
	// read and write timeouts.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	send := func(evs ...watch.Event) error {
		for _, ev := range evs {
			if err := writeEvent(w, ev); err != nil {
				return err
			}
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("flush watch events: %w", err)
		}
		return nil
	}
	if bookmarks {
		initial = append(initial, watch.Event{Type: watch.Bookmark, Object: initialEventsEnd()})
	}
	if err := send(initial...); err != nil {
		return
	}
	t := time.NewTicker(watchPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if evs := pw.events(sel.filter(s.src.Pods())); len(evs) > 0 {
			if err := send(evs...); err != nil {
				return // the client went away
			}
		}
	}
}

func writeEvent(w io.Writer, ev watch.Event) error {
	raw, err := json.Marshal(ev.Object)
	if err != nil {
		return fmt.Errorf("encode watch event: %w", err)
	}
	line, err := json.Marshal(metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}})
	if err != nil {
		return fmt.Errorf("encode watch event: %w", err)
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write watch event: %w", err)
	}
	return nil
}

// WatchPods calls fn for every watch event of the pods of namespace (""
// for every namespace), or of the one pod namespace/name when name is
// set: ADDED for each pod there is now, then one BOOKMARK event (its pod
// has only the annotation k8s.io/initial-events-end), then ADDED,
// MODIFIED and DELETED as pods change. It returns fn's error, ctx's when
// ctx ends, or an error when the daemon ends the stream.
func (c *Client) WatchPods(ctx context.Context, namespace, name string, fn func(eventType string, pod *v1.Pod) error) error {
	return c.WatchPodsWhere(ctx, namespace, name, PodSelector{}, fn)
}

// WatchPodsWhere is WatchPods for the pods that match sel.
func (c *Client) WatchPodsWhere(ctx context.Context, namespace, name string, sel PodSelector, fn func(eventType string, pod *v1.Pod) error) error {
	p := "/api/v1/pods"
	switch {
	case name != "":
		p = podPath(namespace, name)
	case namespace != "":
		p = "/api/v1/namespaces/" + url.PathEscape(namespace) + "/pods"
	}
	q := url.Values{"watch": {"true"}, "allowWatchBookmarks": {"true"}}
	sel.query(q)
	p += "?" + q.Encode()
	body, err := c.stream(ctx, p)
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	for {
		var ev metav1.WatchEvent
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return errors.New("the minilet daemon ended the watch")
			}
			return fmt.Errorf("read watch events: %w", err)
		}
		if ev.Type == string(watch.Error) {
			var st metav1.Status
			if err := json.Unmarshal(ev.Object.Raw, &st); err != nil {
				return fmt.Errorf("decode a watch error: %w", err)
			}
			return &StatusError{Status: st}
		}
		pod := &v1.Pod{}
		if err := json.Unmarshal(ev.Object.Raw, pod); err != nil {
			return fmt.Errorf("decode a %s watch event: %w", ev.Type, err)
		}
		if err := fn(ev.Type, pod); err != nil {
			return err
		}
	}
}

// stream sends GET path and returns the body of a 200 answer, to be read
// for as long as it lasts: only the wait for the answer is bounded.
func (c *Client) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://minilet"+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("build request GET %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	hc := &http.Client{Transport: c.http.Transport}
	timer := time.AfterFunc(clientTimeout, cancel)
	resp, err := hc.Do(req)
	if !timer.Stop() && ctx.Err() == nil {
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("the minilet daemon at %s did not answer within %s", c.socket, clientTimeout)
	}
	if err != nil {
		cancel()
		return nil, c.dialError(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return nil, fmt.Errorf("read the daemon's answer to GET %s: %w", path, err)
		}
		return nil, answerError(resp.StatusCode, body)
	}
	return cancelOnClose{resp.Body, cancel}, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
