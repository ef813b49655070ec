package server

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// TestListPodsWhere: labelSelector and fieldSelector filter the list as
// the API server does; an unknown field is a 400 naming it.
func TestListPodsWhere(t *testing.T) {
	src := newFakeSource()
	src.pods[2].Labels = map[string]string{"app": "db", "tier": "data"}
	src.pods[3].Labels = map[string]string{"app": "dns"}
	src.pods[3].Status.Phase = v1.PodPending
	dir := startServer(t, src, nil)
	c := NewClient(dir)
	ctx := context.Background()
	names := func(sel PodSelector) string {
		t.Helper()
		l, err := c.ListPodsWhere(ctx, "", sel)
		if err != nil {
			t.Fatalf("%+v: %v", sel, err)
		}
		var n []string
		for _, p := range l.Items {
			n = append(n, p.Namespace+"/"+p.Name)
		}
		return strings.Join(n, " ")
	}
	for _, tc := range []struct {
		sel  PodSelector
		want string
	}{
		{PodSelector{Labels: "app=db"}, "default/db"},
		{PodSelector{Labels: "app in (db,dns)"}, "default/db kube-system/dns"},
		{PodSelector{Labels: "app,tier!=data"}, "kube-system/dns"},
		{PodSelector{Fields: "status.phase=Pending"}, "kube-system/dns"},
		{PodSelector{Fields: "metadata.namespace!=default"}, "kube-system/dns"},
		{PodSelector{Labels: "app", Fields: "metadata.name=db"}, "default/db"},
	} {
		if got := names(tc.sel); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.sel, got, tc.want)
		}
	}
	_, err := c.ListPodsWhere(ctx, "", PodSelector{Fields: "spec.imagee=x"})
	if err == nil || !strings.Contains(err.Error(), "field label not supported: spec.imagee") {
		t.Errorf("unknown field: %v", err)
	}
	_, err = c.ListPodsWhere(ctx, "", PodSelector{Labels: "app in (db"})
	if err == nil || !strings.Contains(err.Error(), "unable to parse requirement") {
		t.Errorf("bad label selector: %v", err)
	}
}
