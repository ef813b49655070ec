package cluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestReachabilityLogsChanges: each change is said once: unreachable,
// back, credentials refused (an error, once however often it repeats),
// accepted again.
func TestReachabilityLogsChanges(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	log := zap.New(core)
	var r reachability
	unauthorized := apierrors.NewUnauthorized("token revoked")
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "leases"}, "n1", errors.New("stale"))
	for _, err := range []error{
		nil, errors.New("dial tcp: connection refused"), errors.New("dial tcp: connection refused"), nil,
		unauthorized, unauthorized, unauthorized, nil, conflict,
	} {
		r.note(err, log)
	}
	var got []string
	for _, e := range logs.All() {
		got = append(got, fmt.Sprintf("%s %s", e.Level, strings.SplitN(e.Message, " (", 2)[0]))
	}
	want := []string{
		"warn cannot reach the API server; pods keep running, and the node's status catches up once it answers",
		"info API server reachable again",
		"error the API server refuses this node's credentials",
		"info the API server accepts this node's credentials again",
		"warn API server refused a request",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
