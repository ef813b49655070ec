package cluster

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/minilet/minilet/pkg/podvolume"
)

// defaultTokenExpiration is a projected token's lifetime when its source
// names none (the API's default).
const defaultTokenExpiration = 3600

// A failed token request is tried again after tokenRetryFirst, doubled
// per failure up to tokenRetryMax: right after a pod is bound the Node
// authorizer may not let the node ask yet.
const (
	tokenRetryFirst = 250 * time.Millisecond
	tokenRetryMax   = 10 * time.Second
)

// A new pod waits up to firstTokenWait for its first token while the
// API server refuses it as Forbidden: the Node authorizer's graph learns
// of the pod's binding a moment after the node sees the pod ("node
// requested token bound to a pod scheduled on a different node"). The
// kubelet starts the pod at once and reports FailedMount until a retry
// passes; minilet holds the pod that long instead, so a new pod starts
// with its token and no warning.
const firstTokenWait = 5 * time.Second

// failure is the failures of one token's requests.
type failure struct {
	at    time.Time
	count int
	// first is when the first of them came; forbidden: all were 403s.
	first     time.Time
	forbidden bool
}

// retryAt is when the next request may go.
func (f failure) retryAt() time.Time {
	d := tokenRetryFirst
	for i := 1; i < f.count && d < tokenRetryMax; i++ {
		d *= 2
	}
	return f.at.Add(min(d, tokenRetryMax))
}

// token is one issued service account token.
type token struct {
	value   []byte
	issued  time.Time
	expires time.Time
}

// due reports whether t should be replaced at now: the kubelet rotates a
// token once 80% of its lifetime has passed, or after 24 hours.
func (t token) due(now time.Time) bool {
	ttl := t.expires.Sub(t.issued)
	return now.After(t.issued.Add(ttl*8/10)) || now.Sub(t.issued) > 24*time.Hour
}

// tokenKey names one token source of one pod.
type tokenKey struct {
	uid, volume, path string
}

// tokenManager requests the service account tokens of projected volumes
// from the TokenRequest API, bound to their pod, and rotates them.
// Requests run in the background; changed is called when a token arrives.
type tokenManager struct {
	client  kubernetes.Interface
	log     *zap.Logger
	changed func()
	now     func() time.Time

	mu       sync.Mutex
	tokens   map[tokenKey]token
	inflight map[tokenKey]bool
	failed   map[tokenKey]failure // failures since the last success
}

func newTokenManager(client kubernetes.Interface, log *zap.Logger, changed func()) *tokenManager {
	return &tokenManager{client: client, log: log, changed: changed, now: time.Now,
		tokens: map[tokenKey]token{}, inflight: map[tokenKey]bool{}, failed: map[tokenKey]failure{}}
}

// secrets returns the token Secrets of the pods (podvolume.TokenSecretName)
// it has, and requests those missing or due, for the pods' sources.
// Tokens of sources no pod has any more are forgotten.
func (m *tokenManager) secrets(ctx context.Context, pods []*v1.Pod) []*v1.Secret {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []*v1.Secret
	live := map[tokenKey]bool{}
	for _, p := range pods {
		for _, src := range podvolume.Tokens(p) {
			k := tokenKey{uid: string(p.UID), volume: src.Volume, path: src.Path}
			live[k] = true
			t, ok := m.tokens[k]
			if ok {
				out = append(out, &v1.Secret{
					ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: podvolume.TokenSecretName(k.uid, k.volume, k.path)},
					Data:       map[string][]byte{podvolume.TokenKey: t.value},
				})
			}
			if (!ok || t.due(now)) && !m.inflight[k] && !now.Before(m.failed[k].retryAt()) {
				m.inflight[k] = true
				go m.request(ctx, k, p.DeepCopy(), src)
			}
		}
	}
	for k := range m.tokens {
		if !live[k] {
			delete(m.tokens, k)
			delete(m.failed, k)
		}
	}
	return out
}

// awaiting reports whether a token of pod was never issued and is on its
// way: its first request has not failed, or only the Node authorizer's
// lag refused it, for less than firstTokenWait.
func (m *tokenManager) awaiting(pod *v1.Pod) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, src := range podvolume.Tokens(pod) {
		k := tokenKey{uid: string(pod.UID), volume: src.Volume, path: src.Path}
		if _, ok := m.tokens[k]; ok {
			continue
		}
		if f := m.failed[k]; f.count == 0 || (f.forbidden && now.Sub(f.first) < firstTokenWait) {
			return true
		}
	}
	return false
}

// request asks the API server for one token, bound to pod.
func (m *tokenManager) request(ctx context.Context, k tokenKey, pod *v1.Pod, src podvolume.TokenSource) {
	exp := int64(defaultTokenExpiration)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	issued := m.now()
	resp, err := m.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	m.mu.Lock()
	delete(m.inflight, k)
	if err != nil {
		prev := m.failed[k]
		f := failure{at: m.now(), count: prev.count + 1, first: prev.first, forbidden: apierrors.IsForbidden(err) && (prev.count == 0 || prev.forbidden)}
		if prev.count == 0 {
			f.first = f.at
		}
		m.failed[k] = f
		_, issuedBefore := m.tokens[k]
		m.mu.Unlock()
		time.AfterFunc(f.retryAt().Sub(f.at), m.changed) // to try again when due
		log := m.log.Warn
		if f.forbidden && !issuedBefore && f.at.Sub(f.first) < firstTokenWait {
			log = m.log.Info // most likely the Node authorizer's lag; the pod waits
		}
		log("cannot get a service account token; the pod's volume waits for it",
			zap.String("namespace", pod.Namespace), zap.String("pod", pod.Name), zap.String("serviceAccount", sa), zap.Error(err))
		return
	}
	delete(m.failed, k)
	m.tokens[k] = token{value: []byte(resp.Status.Token), issued: issued, expires: resp.Status.ExpirationTimestamp.Time}
	m.mu.Unlock()
	m.changed()
}
