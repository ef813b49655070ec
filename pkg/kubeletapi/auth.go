package kubeletapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// user is an authenticated client.
type user struct {
	Name   string
	Groups []string
	UID    string
	Extra  map[string]authorizationv1.ExtraValue
}

// Cache lifetimes, the kubelet's webhook defaults.
const (
	authnTTL   = 2 * time.Minute
	allowTTL   = 5 * time.Minute
	denyTTL    = 30 * time.Second
	reviewTime = 10 * time.Second
)

// Auth authenticates clients by certificate (verified against the client
// CA by the TLS handshake) or bearer token (TokenReview), and authorizes
// them with SubjectAccessReview against the node, caching the answers.
type Auth struct {
	client kubernetes.Interface
	node   string
	now    func() time.Time

	mu     sync.Mutex
	tokens map[string]cachedUser
	access map[string]cachedDecision
}

type cachedUser struct {
	u       *user
	expires time.Time
}

type cachedDecision struct {
	allowed bool
	reason  string
	expires time.Time
}

// NewAuth returns an Auth asking client's API server about node.
func NewAuth(client kubernetes.Interface, node string) *Auth {
	return &Auth{client: client, node: node, now: time.Now, tokens: map[string]cachedUser{}, access: map[string]cachedDecision{}}
}

var errUnauthenticated = errors.New("Unauthorized")

// authenticate returns the request's user.
func (a *Auth) authenticate(r *http.Request) (*user, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		c := r.TLS.VerifiedChains[0][0]
		return &user{Name: c.Subject.CommonName, Groups: c.Subject.Organization}, nil
	}
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return nil, errUnauthenticated
	}
	now := a.now()
	a.mu.Lock()
	c, hit := a.tokens[token]
	a.mu.Unlock()
	if hit && now.Before(c.expires) {
		if c.u == nil {
			return nil, errUnauthenticated
		}
		return c.u, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), reviewTime)
	defer cancel()
	rev, err := a.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	var u *user
	if rev.Status.Authenticated {
		u = &user{Name: rev.Status.User.Username, Groups: rev.Status.User.Groups, UID: rev.Status.User.UID, Extra: map[string]authorizationv1.ExtraValue{}}
		for k, v := range rev.Status.User.Extra {
			u.Extra[k] = authorizationv1.ExtraValue(v)
		}
	}
	a.mu.Lock()
	a.tokens[token] = cachedUser{u: u, expires: now.Add(authnTTL)}
	a.mu.Unlock()
	if u == nil {
		return nil, errUnauthenticated
	}
	return u, nil
}

// authorize asks whether u may do at on this node; the reason when not.
func (a *Auth) authorize(ctx context.Context, u *user, at attributes) (bool, string, error) {
	ok, reason, err := a.review(ctx, u, at.Verb, at.Subresource)
	if err != nil || ok || at.Fallback == "" {
		return ok, reason, err
	}
	return a.review(ctx, u, at.Verb, at.Fallback)
}

func (a *Auth) review(ctx context.Context, u *user, verb, sub string) (bool, string, error) {
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", u.Name, u.UID, strings.Join(u.Groups, ","), verb, sub)
	now := a.now()
	a.mu.Lock()
	c, hit := a.access[key]
	a.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.allowed, c.reason, nil
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTime)
	defer cancel()
	sar, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: u.Name, Groups: u.Groups, UID: u.UID, Extra: u.Extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: "nodes", Subresource: sub, Name: a.node},
	}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("subject access review: %w", err)
	}
	ttl := denyTTL
	if sar.Status.Allowed {
		ttl = allowTTL
	}
	reason := fmt.Sprintf("user=%s, verb=%s, resource=nodes, subresource=%s", u.Name, verb, sub)
	a.mu.Lock()
	a.access[key] = cachedDecision{allowed: sar.Status.Allowed, reason: reason, expires: now.Add(ttl)}
	a.mu.Unlock()
	return sar.Status.Allowed, reason, nil
}
