package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/server"
)

func newLabelCommand(g *globalFlags) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "label node [NAME] KEY=VALUE... | KEY-...",
		Short: "set or remove labels of the node, like kubectl label node",
		Long: `Set (KEY=VALUE) or remove (KEY-) labels of this node. They are kept in
--root-dir/node.json across restarts, over --node-labels (which they may
also remove). minilet's own labels (kubernetes.io/hostname, os, arch) are
refused. Pods waiting for the node to fit their nodeSelector or required
node affinity start once it does.`,
		Example: `  minilet label node gpu=true
  minilet label node disk=ssd --overwrite
  minilet label node gpu-`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editNode(cmd, g, args, func(n *v1.Node, rest []string) ([]byte, string, []string, error) {
				edits, err := parseLabelEdits(rest)
				if err != nil {
					return nil, "", nil, err
				}
				return labelPatch(n.Labels, edits, overwrite)
			})
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "change a label that already has a value")
	return cmd
}

func newTaintCommand(g *globalFlags) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "taint node [NAME] KEY[=VALUE]:EFFECT... | KEY[:EFFECT]-...",
		Short: "add or remove taints of the node, like kubectl taint node",
		Long: `Add (KEY[=VALUE]:EFFECT) or remove (KEY[:EFFECT]-) taints of this node, kept in
--root-dir/node.json across restarts. New and changed pods that do not
tolerate a NoSchedule or NoExecute taint wait, Pending, with the
scheduler's message, and start once it is removed. PreferNoSchedule keeps
no pod out of the only node there is. Running pods are not evicted by a
NoExecute taint (yet).`,
		Example: `  minilet taint node dedicated=ml:NoSchedule
  minilet taint node dedicated:NoSchedule-
  minilet taint node dedicated-`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editNode(cmd, g, args, func(n *v1.Node, rest []string) ([]byte, string, []string, error) {
				edits, err := parseTaintEdits(rest)
				if err != nil {
					return nil, "", nil, err
				}
				patch, verb, err := taintPatch(n, edits, overwrite)
				return patch, verb, nil, err
			})
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "change the value of a taint with the same key and effect")
	return cmd
}

// editNode reads `node [NAME] EDITS...`, fetches the node, lets edit turn
// the edits into a patch, sends it and says what happened as kubectl does
// ("node/NAME labeled"); notes come first.
func editNode(cmd *cobra.Command, g *globalFlags, args []string, edit func(n *v1.Node, edits []string) (patch []byte, verb string, notes []string, err error)) error {
	names, rest, err := nodeEditArgs(args)
	if err != nil {
		return err
	}
	client := server.NewClient(g.runDir)
	n, err := fetchNode(cmd.Context(), client, names)
	if err != nil {
		return err
	}
	patch, verb, notes, err := edit(n, rest)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	for _, note := range notes {
		fmt.Fprintln(out, note)
	}
	if patch != nil {
		if _, err := client.PatchNode(cmd.Context(), patch); err != nil {
			return cliError(err)
		}
	}
	fmt.Fprintf(out, "node/%s %s\n", n.Name, verb)
	return nil
}

// nodeEditArgs reads `node [NAME] EDITS...` or `node/NAME EDITS...`.
func nodeEditArgs(args []string) (names, rest []string, err error) {
	first := args[0]
	if typ, name, ok := strings.Cut(first, "/"); ok {
		if !isNodeResource(typ) || name == "" {
			return nil, nil, fmt.Errorf("label and taint work on the node: `node [NAME]` or `node/NAME`, got %q", first)
		}
		return []string{name}, args[1:], nil
	}
	if !isNodeResource(first) {
		return nil, nil, fmt.Errorf("label and taint work on the node: `minilet label node KEY=VALUE`; got %q (pods take their labels from their manifests)", first)
	}
	rest = args[1:]
	if len(rest) > 0 && !strings.ContainsAny(rest[0], "=:") && !strings.HasSuffix(rest[0], "-") {
		return rest[:1], rest[1:], nil
	}
	return nil, rest, nil
}
