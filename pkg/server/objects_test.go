package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/claims"
)

const secretValue = "correct-horse-battery-staple"

// objectsSource is a PodSource with objects and volumes.
type objectsSource struct {
	fakeSource
	removed []string
}

func (o *objectsSource) ConfigMaps() []v1.ConfigMap {
	return []v1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cfg"}, Data: map[string]string{"a": "1"}}}
}

func (o *objectsSource) Secrets() []v1.Secret {
	return []v1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"}, Type: v1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte(secretValue)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "tls"}, Type: v1.SecretTypeTLS, Data: map[string][]byte{"tls.key": []byte(secretValue + "-key")}},
	}
}

func (o *objectsSource) Claims() []v1.PersistentVolumeClaim {
	return []v1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "data"}}}
}

func (o *objectsSource) Volumes() ([]claims.Volume, error) {
	return []claims.Volume{{Namespace: "default", Name: "data", Pods: []string{"web"}, Claim: true, Made: true}}, nil
}

func (o *objectsSource) RemoveVolume(ns, name string) error {
	if name == "data" {
		return errors.New("volume default/data is in use by pod web; stop the pod first")
	}
	o.removed = append(o.removed, ns+"/"+name)
	return nil
}

func rawGet(t *testing.T, dir, path string) (int, string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", SocketPath(dir))
	}}}
	resp, err := hc.Get("http://minilet" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestObjectEndpoints(t *testing.T) {
	src := &objectsSource{}
	dir := startServer(t, src, nil)
	c := NewClient(dir)
	ctx := context.Background()

	for _, path := range []string{"/api/v1/secrets", "/api/v1/namespaces/default/secrets", "/api/v1/namespaces/default/secrets/db", "/api/v1/namespaces/shop/secrets/tls"} {
		code, body := rawGet(t, dir, path)
		if code != 200 || strings.Contains(body, secretValue) || strings.Contains(body, "Y29ycmVjd") /* base64 of it */ {
			t.Errorf("GET %s: %d, a secret value in the answer: %s", path, code, body)
		}
	}
	list, err := c.Secrets(ctx, "default")
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("secrets: %v %v", list, err)
	}
	s := list.Items[0]
	if v, ok := s.Data["password"]; !ok || len(v) != 0 || s.Annotations[AnnotationDataBytes] != `{"password":28}` {
		t.Errorf("secret: keys must stay, values go, sizes in the annotation: %+v", s)
	}
	cms, err := c.ConfigMaps(ctx, "")
	if err != nil || len(cms.Items) != 1 || cms.Items[0].Data["a"] != "1" {
		t.Errorf("configmaps: %+v %v", cms, err)
	}
	if code, _ := rawGet(t, dir, "/api/v1/namespaces/default/configmaps/nope"); code != 404 {
		t.Errorf("missing configmap: %d", code)
	}
	pvcs, err := c.Claims(ctx, "shop")
	if err != nil || len(pvcs.Items) != 0 {
		t.Errorf("claims of shop: %+v %v", pvcs, err)
	}
	vols, err := c.Volumes(ctx)
	if err != nil || len(vols) != 1 || vols[0].Pods[0] != "web" {
		t.Errorf("volumes: %+v %v", vols, err)
	}
	if err := c.RemoveVolume(ctx, "default", "data"); err == nil || !strings.Contains(err.Error(), "in use by pod web") {
		t.Errorf("removing a volume in use: %v", err)
	}
	if err := c.RemoveVolume(ctx, "default", "old"); err != nil || len(src.removed) != 1 {
		t.Errorf("remove: %v %v", err, src.removed)
	}
	// A daemon without objects answers 404.
	bare := startServer(t, newFakeSource(), nil)
	if code, _ := rawGet(t, bare, "/api/v1/configmaps"); code != 404 {
		t.Errorf("no object source: %d", code)
	}
}
