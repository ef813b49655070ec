package server

// The node endpoints:
//
//	GET  /api/v1/node                       v1.Node
//	POST /api/v1/node/cordon                v1.Node, now unschedulable
//	POST /api/v1/node/uncordon              v1.Node, schedulable again
//	POST /api/v1/node/drain?gracePeriod=N   v1.Node, once every pod has stopped
//	PATCH /api/v1/node                      v1.Node: labels, taints, unschedulable
//	                                        (merge or strategic merge patch)
//
// They answer 404 when the PodSource is not a NodeController.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeController is implemented by a PodSource that can report its node
// and take the node commands.
type NodeController interface {
	// Node returns the node as it is now.
	Node(ctx context.Context) (v1.Node, error)
	// SetCordoned cordons (true) or uncordons the node: while cordoned,
	// new or changed pods are not started; running pods stay. The state
	// survives a daemon restart.
	SetCordoned(ctx context.Context, cordoned bool) error
	// Drain cordons the node, then stops every pod gracefully, and
	// returns when they have stopped. gracePeriod, when not nil,
	// replaces each pod's terminationGracePeriodSeconds.
	Drain(ctx context.Context, gracePeriod *int64) error
	// PatchNode applies a patch of the node (labels, taints,
	// unschedulable), kept across restarts, and returns the node. An error
	// with an Invalid() method is the client's.
	PatchNode(ctx context.Context, patch []byte) (v1.Node, error)
}

// patchTypes are the patch types the node takes, as kubectl sends them.
var patchTypes = []string{"application/merge-patch+json", "application/strategic-merge-patch+json"}

// readPatch reads a request's patch, of one of patchTypes; on failure it
// has answered ("<what> a patch of type ...").
func readPatch(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !slices.Contains(patchTypes, strings.TrimSpace(ct)) {
		writeStatus(w, newStatus(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("%s a patch of type %s, not %q", what, strings.Join(patchTypes, " or "), ct)))
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeStatus(w, badRequest("read the patch: "+err.Error()))
		return nil, false
	}
	return body, true
}

// handlePatchNode is kubectl label, taint and cordon's PATCH of a node.
func (s *Server) handlePatchNode(w http.ResponseWriter, r *http.Request) {
	nc, ok := s.nodeController(w)
	if !ok {
		return
	}
	body, ok := readPatch(w, r, "the node takes")
	if !ok {
		return
	}
	n, err := nc.PatchNode(r.Context(), body)
	var inv interface{ Invalid() bool }
	switch {
	case errors.As(err, &inv) && inv.Invalid():
		writeStatus(w, newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error()))
		return
	case err != nil:
		writeStatus(w, errorStatus(err))
		return
	}
	writeNode(w, n)
}

// PatchNode sends a strategic merge patch of the node (kubectl's) and
// returns the node.
func (c *Client) PatchNode(ctx context.Context, patch []byte) (*v1.Node, error) {
	body, err := c.doBody(ctx, http.MethodPatch, "/api/v1/node", "application/strategic-merge-patch+json", patch)
	if err != nil {
		return nil, err
	}
	n := &v1.Node{}
	if err := json.Unmarshal(body, n); err != nil {
		return nil, fmt.Errorf("decode the node the daemon answered: %w", err)
	}
	return n, nil
}

// nodeController returns the node controller, or answers 404.
func (s *Server) nodeController(w http.ResponseWriter) (NodeController, bool) {
	if s.node == nil {
		writeStatus(w, pathNotFound())
		return nil, false
	}
	return s.node, true
}

// handleNode answers GET and PATCH of the node.
func (s *Server) handleNode(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPatch {
		s.handlePatchNode(w, r)
		return
	}
	s.handleGetNode(w, r)
}

func (s *Server) handleGetNode(w http.ResponseWriter, r *http.Request) {
	nc, ok := s.nodeController(w)
	if !ok {
		return
	}
	n, err := nc.Node(r.Context())
	if err != nil {
		writeStatus(w, internalError(err.Error()))
		return
	}
	writeNode(w, n)
}

func (s *Server) handleCordon(w http.ResponseWriter, r *http.Request)   { s.setCordoned(w, r, true) }
func (s *Server) handleUncordon(w http.ResponseWriter, r *http.Request) { s.setCordoned(w, r, false) }

func (s *Server) setCordoned(w http.ResponseWriter, r *http.Request, cordoned bool) {
	nc, ok := s.nodeController(w)
	if !ok {
		return
	}
	if err := nc.SetCordoned(r.Context(), cordoned); err != nil {
		writeStatus(w, errorStatus(err))
		return
	}
	s.answerNode(w, r, nc)
}

func (s *Server) handleDrain(w http.ResponseWriter, r *http.Request) {
	nc, ok := s.nodeController(w)
	if !ok {
		return
	}
	grace, err := parseGracePeriod(r.URL.Query().Get("gracePeriod"))
	if err != nil {
		writeStatus(w, badRequest(err.Error()))
		return
	}
	// A drain lasts as long as the pods take to stop: longer than the
	// server's write timeout.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	if err := nc.Drain(r.Context(), grace); err != nil {
		writeStatus(w, internalError(err.Error()))
		return
	}
	s.answerNode(w, r, nc)
}

// answerNode answers the node after a command that succeeded; if the node
// cannot be read then, the answer is still a success.
func (s *Server) answerNode(w http.ResponseWriter, r *http.Request, nc NodeController) {
	n, err := nc.Node(r.Context())
	if err != nil {
		writeJSON(w, http.StatusOK, metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusSuccess, Code: http.StatusOK,
		})
		return
	}
	writeNode(w, n)
}

func writeNode(w http.ResponseWriter, n v1.Node) {
	n.TypeMeta = metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}
	writeJSON(w, http.StatusOK, n)
}

// parseGracePeriod reads the gracePeriod parameter of a drain, in
// seconds. Absent or negative means each pod's own, as kubectl drain's
// --grace-period=-1.
func parseGracePeriod(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("gracePeriod %q is not a number of seconds", s)
	}
	if n < 0 {
		return nil, nil
	}
	return &n, nil
}

func badRequest(msg string) metav1.Status {
	return newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, msg)
}

// Node returns the daemon's node.
func (c *Client) Node(ctx context.Context) (*v1.Node, error) {
	n := &v1.Node{}
	if err := c.getJSON(ctx, "/api/v1/node", n); err != nil {
		return nil, err
	}
	return n, nil
}

// Cordon cordons the node (true) or uncordons it (false).
func (c *Client) Cordon(ctx context.Context, cordoned bool) error {
	p := "/api/v1/node/uncordon"
	if cordoned {
		p = "/api/v1/node/cordon"
	}
	_, err := c.do(ctx, c.http, http.MethodPost, p)
	return err
}

// Drain cordons the node and stops every pod, and returns once they have
// stopped; only ctx bounds how long that takes. grace, when not nil and
// not negative, replaces each pod's termination grace period.
func (c *Client) Drain(ctx context.Context, grace *int64) error {
	p := "/api/v1/node/drain"
	if grace != nil && *grace >= 0 {
		p += "?gracePeriod=" + strconv.FormatInt(*grace, 10)
	}
	_, err := c.do(ctx, &http.Client{Transport: c.http.Transport}, http.MethodPost, p)
	return err
}
