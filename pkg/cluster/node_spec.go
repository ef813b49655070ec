package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/node"
)

// Spec is the node's cordon, labels and taints as the API server has them
// (node.SpecSource). Before the Node is known (first start, API server
// away) it is empty: the built-in labels and --node-labels, no taints.
func (a *NodeAgent) Spec() node.OperatorSpec {
	n, err := a.lister.Get(a.cfg.Name)
	if err != nil {
		return node.OperatorSpec{}
	}
	return specOf(n, a.cfg.FlagLabels)
}

// specOf is n's spec as the Reporter takes it: every label of n, a
// --node-labels label n lacks removed (nil), and the taints but the
// node.kubernetes.io/ ones (minilet computes those from its own
// conditions).
func specOf(n *v1.Node, flagLabels map[string]string) node.OperatorSpec {
	labels := make(map[string]*string, len(n.Labels))
	for k, v := range n.Labels {
		labels[k] = &v
	}
	for k := range flagLabels {
		if _, ok := n.Labels[k]; !ok {
			labels[k] = nil
		}
	}
	return node.OperatorSpec{Cordoned: n.Spec.Unschedulable, Labels: labels, Taints: operatorTaints(n.Spec.Taints)}
}

// PatchSpec sends kubectl's patch of the node (label, taint, cordon) to
// the API server as the node's own user (node.SpecSource): what the API
// server allows a node (NodeRestriction) decides.
func (a *NodeAgent) PatchSpec(ctx context.Context, _ v1.Node, _ map[string]string, patch []byte, _ time.Time) error {
	n, err := a.client.CoreV1().Nodes().Patch(ctx, a.cfg.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("the API server refused the change of node %s: %w", a.cfg.Name, err)
	}
	a.waitSeen(ctx, n.ResourceVersion)
	return nil
}

// Cordoned tells whether the node is unschedulable in the API.
func (a *NodeAgent) Cordoned() bool { return a.Spec().Cordoned }

// Set cordons or uncordons the node in the API (minilet cordon).
func (a *NodeAgent) Set(cordoned bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.PatchSpec(ctx, v1.Node{}, nil, mustJSON(map[string]any{"spec": map[string]any{"unschedulable": cordoned}}), time.Time{})
}

// waitSeen waits, up to 2 s, until the informer has the Node at
// resourceVersion rv, so that a caller reading the node back sees its own
// change. (A status update landing in between makes it wait the 2 s.)
func (a *NodeAgent) waitSeen(ctx context.Context, rv string) {
	deadline := a.clock.Now().Add(2 * time.Second)
	for a.clock.Now().Before(deadline) {
		if c, err := a.lister.Get(a.cfg.Name); err == nil && c.ResourceVersion == rv {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(10 * time.Millisecond):
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
