package kubeletapi

import (
	"net/http"
	"strings"
)

// attributes are what a request is authorized as: a verb on a subresource
// of the node, as the kubelet asks the API server. Fallback, when not
// empty, is asked when the first is refused (the kubelet's fine-grained
// authorization: nodes/pods first, then nodes/proxy).
type attributes struct {
	Verb        string
	Subresource string
	Fallback    string
}

// requestAttributes maps a request to the kubelet's attributes: the verb
// from the method (GET and HEAD are get, POST create, PUT update, PATCH
// patch, DELETE delete), the subresource from the path (/metrics:
// metrics, /stats: stats, /logs: log, /pods and /healthz: themselves then
// proxy, anything else, exec and logs of containers included: proxy).
func requestAttributes(r *http.Request) attributes {
	verb := "get"
	switch r.Method {
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch first {
	case "metrics":
		return attributes{Verb: verb, Subresource: "metrics"}
	case "stats":
		return attributes{Verb: verb, Subresource: "stats"}
	case "logs":
		return attributes{Verb: verb, Subresource: "log"}
	case "pods", "healthz":
		return attributes{Verb: verb, Subresource: first, Fallback: "proxy"}
	}
	return attributes{Verb: verb, Subresource: "proxy"}
}
