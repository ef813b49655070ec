package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatusError is an error answer of the API: the metav1.Status the server
// sent. Its text is the status message, as kubectl shows it, e.g.
// `pods "web" not found`.
type StatusError struct {
	Status metav1.Status
}

func (e *StatusError) Error() string {
	if e.Status.Message != "" {
		return e.Status.Message
	}
	return fmt.Sprintf("the server answered %d %s", e.Status.Code, e.Status.Reason)
}

// Reason returns the Kubernetes reason of err when it is (or wraps) a
// StatusError, and "" otherwise.
func Reason(err error) metav1.StatusReason {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status.Reason
	}
	return ""
}

// IsNotFound tells whether err says the object does not exist.
func IsNotFound(err error) bool {
	return Reason(err) == metav1.StatusReasonNotFound
}

func newStatus(code int, reason metav1.StatusReason, message string) metav1.Status {
	return metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Code:     int32(code),
	}
}

func podNotFound(name string) metav1.Status {
	st := newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf("pods %q not found", name))
	st.Details = &metav1.StatusDetails{Name: name, Kind: "pods"}
	return st
}

func pathNotFound() metav1.Status {
	return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
}

func methodNotAllowed() metav1.Status {
	return newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
		"the server does not allow this method on the requested resource")
}

// errorStatus is err as a Status: an API server's answer (cluster mode:
// a change written through to it) keeps its code and reason, anything
// else is an internal error.
func errorStatus(err error) metav1.Status {
	var api apierrors.APIStatus
	if errors.As(err, &api) && api.Status().Code != 0 {
		return newStatus(int(api.Status().Code), api.Status().Reason, err.Error())
	}
	return internalError(err.Error())
}

// asError is st as an error that errorStatus turns back into st.
func asError(st metav1.Status) error { return &apierrors.StatusError{ErrStatus: st} }

func internalError(msg string) metav1.Status {
	return newStatus(http.StatusInternalServerError, metav1.StatusReasonInternalError, msg)
}

func unavailable(err error) metav1.Status {
	return newStatus(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, err.Error())
}

// writeStatus sends st as the answer, with its code.
func writeStatus(w http.ResponseWriter, st metav1.Status) {
	writeJSON(w, int(st.Code), st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(internalError(fmt.Sprintf("encode answer: %v", err)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
