package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// nodeFlags are the flags of `minilet node`.
type nodeFlags struct {
	output     string
	showLabels bool
	noHeaders  bool
}

func newNodeCommand(g *globalFlags) *cobra.Command {
	f := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "node [NAME]",
		Short: "show this node, like kubectl get node",
		Long: `Show the node minilet runs: its status (Ready, SchedulingDisabled when
cordoned), labels, capacity, conditions and versions, in kubectl's formats.
"minilet get nodes" does the same.`,
		Example: `  minilet node
  minilet node -o wide
  minilet node -o yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGetNodes(cmd, g, f, args, true)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "", "output format: wide, json, yaml or name")
	fl.BoolVar(&f.showLabels, "show-labels", false, "show all labels as the last column")
	fl.BoolVar(&f.noHeaders, "no-headers", false, "do not print the header line")
	return cmd
}

// runGetNodes prints the node. names, when given, must name it. single
// prints json and yaml as a Node even without a name, as befits
// `minilet node`; `minilet get nodes` prints a List.
func runGetNodes(cmd *cobra.Command, g *globalFlags, f *nodeFlags, names []string, single bool) error {
	format, err := printers.ParseFormat(f.output)
	if err != nil {
		return err
	}
	n, err := fetchNode(cmd.Context(), server.NewClient(g.runDir), names)
	if err != nil {
		return err
	}
	opts := printers.Options{
		Format:     format,
		ShowLabels: f.showLabels,
		NoHeaders:  f.noHeaders,
		Single:     single || len(names) == 1,
	}
	return printers.PrintNodes(cmd.OutOrStdout(), []v1.Node{*n}, opts, time.Now())
}

// fetchNode reads the daemon's node and checks that names, if any, name
// it: there is one node, and any other name is not found.
func fetchNode(ctx context.Context, client *server.Client, names []string) (*v1.Node, error) {
	n, err := client.Node(ctx)
	if err != nil {
		return nil, cliError(err)
	}
	for _, name := range names {
		if name != n.Name {
			return nil, nodeNotFound(name)
		}
	}
	return n, nil
}

// nodeNotFound is kubectl's answer for a node that does not exist.
func nodeNotFound(name string) error {
	return apiError{err: &server.StatusError{Status: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		Message: fmt.Sprintf("nodes %q not found", name),
	}}}
}

// nodeArgs tells whether args name nodes (`nodes`, `node NAME`, `no`,
// `node/NAME`) rather than pods, and returns the names.
func nodeArgs(args []string) (names []string, ok bool, err error) {
	if len(args) == 0 {
		return nil, false, nil
	}
	if !strings.Contains(args[0], "/") {
		if !isNodeResource(args[0]) {
			return nil, false, nil
		}
		return args[1:], true, nil
	}
	typ, _, _ := strings.Cut(args[0], "/")
	if !isNodeResource(typ) {
		return nil, false, nil
	}
	for _, a := range args {
		typ, name, ok := strings.Cut(a, "/")
		if !ok || !isNodeResource(typ) || name == "" {
			return nil, true, fmt.Errorf("arguments in resource/name form must all name nodes: %q", a)
		}
		names = append(names, name)
	}
	return names, true, nil
}

func isNodeResource(s string) bool {
	switch strings.ToLower(s) {
	case "nodes", "node", "no":
		return true
	}
	return false
}

// runDescribeNode writes `kubectl describe node` of the daemon's node,
// with the pods it runs. names, if any, must name the node.
func runDescribeNode(cmd *cobra.Command, g *globalFlags, names []string) error {
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	n, err := fetchNode(ctx, client, names)
	if err != nil {
		return err
	}
	pods, err := client.ListPods(ctx, "")
	if err != nil {
		return cliError(err)
	}
	events, err := client.NodeEvents(ctx)
	if err != nil {
		events = nil // an older daemon: no node events
	}
	return printers.DescribeNode(cmd.OutOrStdout(), n, pods.Items, events, time.Now())
}
