package main

import (
	"context"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/minilet/minilet/pkg/cluster"
	"github.com/minilet/minilet/pkg/pod"
)

// clusterMode holds the parts of cluster mode (--kubeconfig): the API
// client, the node agent (also the node's spec) and the informers of the
// pods bound to this node.
type clusterMode struct {
	client kubernetes.Interface
	node   *cluster.NodeAgent
	pods   informers.SharedInformerFactory
	log    *zap.Logger
}

func newClusterMode(f *daemonFlags, log *zap.Logger) (*clusterMode, error) {
	client, err := cluster.NewClient(f.kubeconfig, "minilet/"+version)
	if err != nil {
		return nil, err
	}
	agent := cluster.NewNodeAgent(cluster.NodeConfig{
		Name: f.nodeName, FlagLabels: f.nodeLabels,
		LeaseDuration: time.Duration(f.nodeLeaseDurationSeconds) * time.Second,
		StatusUpdate:  f.nodeStatusUpdateFrequency,
	}, client, log.Named("node"))
	return &clusterMode{client: client, node: agent, pods: cluster.NewPodInformers(client, f.nodeName), log: log}, nil
}

// run starts the node agent and the mirror pods, each in a goroutine
// goWait waits for.
func (c *clusterMode) run(ctx context.Context, goWait func(func()), nodeName string, local cluster.NodeSource, mgr *pod.Manager) {
	c.node.OnSpecChange(mgr.NodeSpecChanged)
	mirrors := cluster.NewMirrorSyncer(nodeName, c.client, c.pods, mgr, c.node, c.log.Named("mirror"))
	goWait(func() { c.node.Run(ctx, local) })
	goWait(func() { mirrors.Run(ctx) })
}
