package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A new pod waits for its first token while the API server refuses it as
// Forbidden (the Node authorizer has not seen the binding yet), for
// firstTokenWait at most; any other refusal lets it go on at once (to
// FailedMount, as the kubelet); a token issued ends the wait.
func TestTokenAwaitingThroughAuthorizerLag(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		waitsLong bool // still awaiting just before firstTokenWait
	}{
		{"forbidden", apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, "default",
			errors.New("node requested token bound to a pod scheduled on a different node")), true},
		{"another error", apierrors.NewInternalError(errors.New("etcd is down")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset()
			var mu sync.Mutex
			refuse := true
			client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, k8sruntime.Object, error) {
				mu.Lock()
				defer mu.Unlock()
				if refuse {
					return true, nil, tc.err
				}
				return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
					Token: "tok", ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Hour))}}, nil
			})
			now := time.Unix(1_700_000_000, 0)
			var clock sync.Mutex
			m := newTokenManager(client, zap.NewNop(), func() {})
			m.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
			pod := tokenPod()
			ctx := context.Background()
			m.secrets(ctx, []*v1.Pod{pod})
			waitFor(t, "the first request failed", func() bool {
				m.mu.Lock()
				defer m.mu.Unlock()
				return m.failed[tokenKey{uid: "u1", volume: "sa", path: "token"}].count == 1
			})
			if got := m.awaiting(pod); got != tc.waitsLong {
				t.Fatalf("right after the failure: awaiting %v", got)
			}
			clock.Lock()
			now = now.Add(firstTokenWait - time.Second)
			clock.Unlock()
			if got := m.awaiting(pod); got != tc.waitsLong {
				t.Fatalf("%s after it: awaiting %v", firstTokenWait-time.Second, got)
			}
			clock.Lock()
			now = now.Add(2 * time.Second)
			clock.Unlock()
			if m.awaiting(pod) {
				t.Fatalf("still awaiting after %s", firstTokenWait+time.Second)
			}
			mu.Lock()
			refuse = false
			mu.Unlock()
			m.secrets(ctx, []*v1.Pod{pod})
			waitFor(t, "the token issued", func() bool { return len(m.secrets(ctx, []*v1.Pod{pod})) == 1 })
			if m.awaiting(pod) {
				t.Fatal("awaiting with its token")
			}
		})
	}
}

func tokenPod() *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"},
		Spec: v1.PodSpec{Volumes: []v1.Volume{{Name: "sa", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{
			Sources: []v1.VolumeProjection{{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token"}}}}}}}}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
