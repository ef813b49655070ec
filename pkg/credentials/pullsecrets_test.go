package credentials

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pullSecret(name, auths string) *v1.Secret {
	return &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths":` + auths + `}`)},
	}
}

func TestForImage(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secrets := []*v1.Secret{
		pullSecret("hub", `{"https://index.docker.io/v1/": {"auth": "`+b64("hubuser:hubpass")+`"}}`),
		pullSecret("team", `{"registry.example.com:5000/team": {"username": "team", "password": "tpass"},
			"registry.example.com:5000": {"username": "any", "password": "apass"}}`),
		pullSecret("wild", `{"*.example.com": {"identitytoken": "tok"}}`),
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "opaque"}, Type: v1.SecretTypeOpaque,
			Data: map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths":{"docker.io":{"username":"no","password":"no"}}}`)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "old"}, Type: v1.SecretTypeDockercfg,
			Data: map[string][]byte{v1.DockerConfigKey: []byte(`{"old.example.org": {"auth": "` + b64("o:p") + `"}}`)}},
	}
	for _, tc := range []struct {
		image string
		want  string
	}{
		{"busybox", "[{hubuser hubpass}]"},
		{"docker.io/library/busybox:1", "[{hubuser hubpass}]"},
		{"registry.example.com:5000/team/app:1", "[{team tpass} {any apass}]"},
		{"registry.example.com:5000/other/app", "[{any apass}]"},
		{"registry.example.com/app", "[{ tok}]"}, // no port: only the wildcard matches
		{"cache.example.com/app", "[{ tok}]"},
		{"old.example.org/x", "[{o p}]"},
		{"quay.io/x", "[]"},
	} {
		got, err := ForImage(secrets, tc.image)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s: %v, want %s", tc.image, got, tc.want)
		}
	}
}

func TestForImageBadSecret(t *testing.T) {
	bad := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "broken"}, Type: v1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths": "hunter2"`)}}
	good := pullSecret("good", `{"quay.io": {"username": "u", "password": "p"}}`)
	got, err := ForImage([]*v1.Secret{bad, good}, "quay.io/x")
	if err == nil || !strings.Contains(err.Error(), "ns/broken") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want one naming ns/broken without its content", err)
	}
	if fmt.Sprint(got) != "[{u p}]" {
		t.Fatalf("the good secret's login is lost: %v", got)
	}
}
