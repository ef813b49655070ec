package server

// The image endpoints (minilet images pull|rm|prune), through the daemon
// so that pulls use its credentials and removals know what pods need:
//
//	POST   /api/v1/images/pull?image=REF    Status: "Image is up to date for sha256:..."
//	DELETE /api/v1/images?image=REF         Status: "Deleted: REF" (409 when a pod needs it)
//	POST   /api/v1/images/prune             ImagePruneResult
//	GET    /api/v1/node/events              EventList: the node's events (image GC)

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/runtime"
)

// ImageManager pulls, removes and prunes images (imagegc.Manager).
type ImageManager interface {
	Pull(ctx context.Context, ref string) (runtime.Image, error)
	// Remove returns the names removed; an error wrapping
	// runtime.ErrNotFound is a 404, one with an InUse() method a 409.
	Remove(ctx context.Context, ref string) ([]string, error)
	Prune(ctx context.Context) (removed []string, freed int64, err error)
}

// NodeEventSource gives the node's events.
type NodeEventSource interface {
	Events() []v1.Event
}

// ImagePruneResult is the answer of a prune.
type ImagePruneResult struct {
	Removed []string `json:"removed"`
	Freed   int64    `json:"freedBytes"`
}

func (s *Server) imageRoutes() []route {
	return []route{
		{"POST /api/v1/images/pull", s.handleImagePull},
		{"DELETE /api/v1/images", s.handleImageRemove},
		{"POST /api/v1/images/prune", s.handleImagePrune},
		{"/api/v1/node/events", s.handleNodeEvents},
	}
}

// imageManager returns the image manager and, with needRef, the image the
// query names; it answers the error itself.
func (s *Server) imageManager(w http.ResponseWriter, r *http.Request, needRef bool) (ImageManager, string, bool) {
	if s.images == nil {
		writeStatus(w, pathNotFound())
		return nil, "", false
	}
	ref := r.URL.Query().Get("image")
	if ref == "" && needRef {
		writeStatus(w, badRequest("image: Required value: name the image (?image=REF)"))
		return nil, "", false
	}
	return s.images, ref, true
}

func (s *Server) handleImagePull(w http.ResponseWriter, r *http.Request) {
	im, ref, ok := s.imageManager(w, r, true)
	if !ok {
		return
	}
	img, err := im.Pull(r.Context(), ref)
	if err != nil {
		code, reason := http.StatusInternalServerError, metav1.StatusReasonInternalError
		if errors.Is(err, runtime.ErrNotFound) {
			code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
		}
		writeStatus(w, newStatus(code, reason, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", fmt.Sprintf("Image is up to date for %s (%s)", img.Ref, img.ID)))
}

func (s *Server) handleImageRemove(w http.ResponseWriter, r *http.Request) {
	im, ref, ok := s.imageManager(w, r, true)
	if !ok {
		return
	}
	removed, err := im.Remove(r.Context(), ref)
	var inUse interface{ InUse() bool }
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		writeStatus(w, newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, err.Error()))
		return
	case errors.As(err, &inUse) && inUse.InUse():
		writeStatus(w, newStatus(http.StatusConflict, metav1.StatusReasonConflict, err.Error()))
		return
	case err != nil:
		writeStatus(w, internalError(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", "Deleted: "+strings.Join(removed, ", ")))
}

func (s *Server) handleImagePrune(w http.ResponseWriter, r *http.Request) {
	im, _, ok := s.imageManager(w, r, false)
	if !ok {
		return
	}
	removed, freed, err := im.Prune(r.Context())
	if err != nil {
		writeStatus(w, internalError(err.Error()))
		return
	}
	if removed == nil {
		removed = []string{}
	}
	writeJSON(w, http.StatusOK, ImagePruneResult{Removed: removed, Freed: freed})
}

func (s *Server) handleNodeEvents(w http.ResponseWriter, _ *http.Request) {
	list := v1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}, Items: []v1.Event{}}
	if s.nodeEvents != nil {
		list.Items = append(list.Items, s.nodeEvents.Events()...)
	}
	writeJSON(w, http.StatusOK, list)
}

// PullImage asks the daemon to pull ref and returns its message.
func (c *Client) PullImage(ctx context.Context, ref string) (string, error) {
	body, err := c.send(ctx, &http.Client{Transport: c.http.Transport}, http.MethodPost, "/api/v1/images/pull?image="+url.QueryEscape(ref), "", nil)
	if err != nil {
		return "", err
	}
	return statusMessage(body)
}

// RemoveImage asks the daemon to remove ref and returns its message.
func (c *Client) RemoveImage(ctx context.Context, ref string) (string, error) {
	body, err := c.send(ctx, c.http, http.MethodDelete, "/api/v1/images?image="+url.QueryEscape(ref), "", nil)
	if err != nil {
		return "", err
	}
	return statusMessage(body)
}

// PruneImages asks the daemon to remove every image no pod needs.
func (c *Client) PruneImages(ctx context.Context) (ImagePruneResult, error) {
	var res ImagePruneResult
	body, err := c.send(ctx, &http.Client{Transport: c.http.Transport}, http.MethodPost, "/api/v1/images/prune", "", nil)
	if err != nil {
		return res, err
	}
	return res, jsonDecode(body, &res)
}

// NodeEvents returns the node's events.
func (c *Client) NodeEvents(ctx context.Context) (*v1.EventList, error) {
	list := &v1.EventList{}
	return list, c.getJSON(ctx, "/api/v1/node/events", list)
}

func statusMessage(body []byte) (string, error) {
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return "", fmt.Errorf("decode the daemon's answer: %w", err)
	}
	return st.Message, nil
}

func jsonDecode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode the daemon's answer: %w", err)
	}
	return nil
}
