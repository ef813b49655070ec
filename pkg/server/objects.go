package server

// The endpoints of the objects beside the pods in the manifest directory:
//
//	GET    /api/v1[/namespaces/{ns}]/configmaps[/{name}]              v1.ConfigMapList, v1.ConfigMap
//	GET    /api/v1[/namespaces/{ns}]/secrets[/{name}]                 v1.SecretList, v1.Secret (keys, never values)
//	GET    /api/v1[/namespaces/{ns}]/persistentvolumeclaims[/{name}]  v1.PersistentVolumeClaimList, ...
//	GET    /api/v1/volumes                                            claims.VolumeList: the claims' data
//	DELETE /api/v1/namespaces/{ns}/volumes/{name}                     removes an unused claim's data
//
// They answer 404 when the daemon has no ObjectSource (or VolumeStore).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/claims"
)

// ObjectSource gives the ConfigMaps, Secrets and PersistentVolumeClaims of
// the manifest directory, sorted by namespace and name.
type ObjectSource interface {
	ConfigMaps() []v1.ConfigMap
	// Secrets hold their values; the server never sends them.
	Secrets() []v1.Secret
	Claims() []v1.PersistentVolumeClaim
}

// VolumeStore lists and removes the claims' data on this host.
type VolumeStore interface {
	Volumes() ([]claims.Volume, error)
	// RemoveVolume deletes the data of a claim no pod mounts.
	RemoveVolume(namespace, name string) error
}

// AnnotationDataBytes is set on every Secret the API serves: the size of
// each value, as JSON ({"password":6}), since the values themselves are
// never served.
const AnnotationDataBytes = "minilet.io/data-bytes"

// RedactSecret returns s without its values: each key of data stays with
// an empty value, and the sizes go into AnnotationDataBytes.
func RedactSecret(s v1.Secret) v1.Secret {
	out := *s.DeepCopy()
	sizes := make(map[string]int, len(out.Data))
	for k, v := range out.Data {
		sizes[k] = len(v)
		out.Data[k] = nil
	}
	out.StringData = nil
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	b, _ := json.Marshal(sizes)
	out.Annotations[AnnotationDataBytes] = string(b)
	return out
}

func (s *Server) objectRoutes() []route {
	return []route{
		{"/api/v1/configmaps", configMapKind.list(s)},
		{"/api/v1/namespaces/{namespace}/configmaps", configMapKind.list(s)},
		{"/api/v1/namespaces/{namespace}/configmaps/{name}", configMapKind.get(s)},
		{"/api/v1/secrets", secretKind.list(s)},
		{"/api/v1/namespaces/{namespace}/secrets", secretKind.list(s)},
		{"/api/v1/namespaces/{namespace}/secrets/{name}", secretKind.get(s)},
		{"/api/v1/persistentvolumeclaims", claimKind.list(s)},
		{"/api/v1/namespaces/{namespace}/persistentvolumeclaims", claimKind.list(s)},
		{"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}", claimKind.get(s)},
		{"/api/v1/volumes", s.listVolumes},
		{"DELETE /api/v1/namespaces/{namespace}/volumes/{name}", s.removeVolume},
	}
}

func inNamespace(r *http.Request, m metav1.ObjectMeta) bool {
	ns := r.PathValue("namespace")
	return ns == "" || m.Namespace == ns
}

func objectNotFound(kind, name string) metav1.Status {
	st := newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf("%s %q not found", kind, name))
	st.Details = &metav1.StatusDetails{Name: name, Kind: kind}
	return st
}

// objectKind serves one kind of object: list (all namespaces, or the
// path's) and get by namespace and name.
type objectKind[T any] struct {
	resource   string // "configmaps"
	listKind   string // "ConfigMapList"
	apiVersion string // "v1", "apps/v1"
	// items lists every object, as served; false: the daemon has no
	// source of this kind (404).
	items func(*Server) ([]T, bool)
	meta  func(*T) metav1.ObjectMeta
}

func (k objectKind[T]) list(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		items, ok := k.items(s)
		if !ok {
			writeStatus(w, pathNotFound())
			return
		}
		out := []T{}
		for _, it := range items {
			if inNamespace(r, k.meta(&it)) {
				out = append(out, it)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": k.listKind, "apiVersion": k.apiVersion, "metadata": map[string]any{}, "items": out})
	}
}

func (k objectKind[T]) get(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		items, ok := k.items(s)
		if !ok {
			writeStatus(w, pathNotFound())
			return
		}
		for _, it := range items {
			if m := k.meta(&it); m.Namespace == r.PathValue("namespace") && m.Name == r.PathValue("name") {
				writeJSON(w, http.StatusOK, it)
				return
			}
		}
		writeStatus(w, objectNotFound(k.resource, r.PathValue("name")))
	}
}

var (
	configMapKind = objectKind[v1.ConfigMap]{"configmaps", "ConfigMapList", "v1",
		func(s *Server) ([]v1.ConfigMap, bool) {
			if s.objects == nil {
				return nil, false
			}
			return s.objects.ConfigMaps(), true
		},
		func(c *v1.ConfigMap) metav1.ObjectMeta { return c.ObjectMeta }}
	secretKind = objectKind[v1.Secret]{"secrets", "SecretList", "v1",
		func(s *Server) ([]v1.Secret, bool) {
			if s.objects == nil {
				return nil, false
			}
			list := s.objects.Secrets()
			out := make([]v1.Secret, 0, len(list))
			for _, s := range list {
				out = append(out, RedactSecret(s)) // values never leave the daemon
			}
			return out, true
		},
		func(c *v1.Secret) metav1.ObjectMeta { return c.ObjectMeta }}
	claimKind = objectKind[v1.PersistentVolumeClaim]{"persistentvolumeclaims", "PersistentVolumeClaimList", "v1",
		func(s *Server) ([]v1.PersistentVolumeClaim, bool) {
			if s.objects == nil {
				return nil, false
			}
			return s.objects.Claims(), true
		},
		func(c *v1.PersistentVolumeClaim) metav1.ObjectMeta { return c.ObjectMeta }}
)

func (s *Server) listVolumes(w http.ResponseWriter, _ *http.Request) {
	if s.volumes == nil {
		writeStatus(w, pathNotFound())
		return
	}
	vols, err := s.volumes.Volumes()
	if err != nil {
		writeStatus(w, internalError(err.Error()))
		return
	}
	sort.SliceStable(vols, func(i, j int) bool {
		if vols[i].Namespace != vols[j].Namespace {
			return vols[i].Namespace < vols[j].Namespace
		}
		return vols[i].Name < vols[j].Name
	})
	if vols == nil {
		vols = []claims.Volume{}
	}
	writeJSON(w, http.StatusOK, claims.VolumeList{Items: vols})
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) {
	if s.volumes == nil {
		writeStatus(w, pathNotFound())
		return
	}
	if err := s.volumes.RemoveVolume(r.PathValue("namespace"), r.PathValue("name")); err != nil {
		writeStatus(w, newStatus(http.StatusConflict, metav1.StatusReasonConflict, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", fmt.Sprintf("volume %s/%s removed", r.PathValue("namespace"), r.PathValue("name"))))
}

// ConfigMaps lists the ConfigMaps of a namespace ("": all).
func (c *Client) ConfigMaps(ctx context.Context, namespace string) (*v1.ConfigMapList, error) {
	list := &v1.ConfigMapList{}
	return list, c.getJSON(ctx, nsPath(namespace, "configmaps"), list)
}

// Secrets lists the Secrets of a namespace ("": all), without values.
func (c *Client) Secrets(ctx context.Context, namespace string) (*v1.SecretList, error) {
	list := &v1.SecretList{}
	return list, c.getJSON(ctx, nsPath(namespace, "secrets"), list)
}

// Claims lists the PersistentVolumeClaims of a namespace ("": all).
func (c *Client) Claims(ctx context.Context, namespace string) (*v1.PersistentVolumeClaimList, error) {
	list := &v1.PersistentVolumeClaimList{}
	return list, c.getJSON(ctx, nsPath(namespace, "persistentvolumeclaims"), list)
}

// Volumes lists the claims' data on this host.
func (c *Client) Volumes(ctx context.Context) ([]claims.Volume, error) {
	var list claims.VolumeList
	return list.Items, c.getJSON(ctx, "/api/v1/volumes", &list)
}

// RemoveVolume deletes the data of a claim no pod mounts.
func (c *Client) RemoveVolume(ctx context.Context, namespace, name string) error {
	_, err := c.do(ctx, c.http, http.MethodDelete, "/api/v1/namespaces/"+url.PathEscape(namespace)+"/volumes/"+url.PathEscape(name))
	return err
}

func nsPath(namespace, resource string) string {
	if namespace == "" {
		return "/api/v1/" + resource
	}
	return "/api/v1/namespaces/" + url.PathEscape(namespace) + "/" + resource
}
