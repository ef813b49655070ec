package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// describeFlags are the flags of `minilet describe`.
type describeFlags struct {
	namespace     string
	allNamespaces bool
}

func newDescribeCommand(g *globalFlags) *cobra.Command {
	f := &describeFlags{}
	cmd := &cobra.Command{
		Use:   "describe pod|node|configmap|secret|pvc|deploy|rs|sts|ds|job|cj [NAME...]",
		Short: "show details of pods and their events, like kubectl describe",
		Long: `Show details of pods and their recent events. Without a name, every pod of
the namespace; a name that matches no pod describes the pods it prefixes.`,
		Example: `  minilet describe pod web
  minilet describe pods -n kube-system
  minilet describe secret db-creds
  minilet describe pvc data
  minilet describe deploy web
  minilet describe job migrate`,
		RunE: func(cmd *cobra.Command, args []string) error { return runDescribe(cmd, g, f, args) },
	}
	addNamespaceFlags(cmd, &f.namespace, &f.allNamespaces)
	return cmd
}

func runDescribe(cmd *cobra.Command, g *globalFlags, f *describeFlags, args []string) error {
	if kind, names, ok, err := objectArgs(args); ok || err != nil {
		if err != nil {
			return err
		}
		ns := f.namespace
		if f.allNamespaces {
			if len(names) > 0 {
				return errors.New("a resource cannot be retrieved by name across all namespaces")
			}
			ns = ""
		}
		return runDescribeObjects(cmd.Context(), server.NewClient(g.runDir), kind, names, ns, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	if names, ok, err := nodeArgs(args); ok || err != nil {
		if err != nil {
			return err
		}
		return runDescribeNode(cmd, g, names)
	}
	names, err := podArgs("describe", args)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	ns := f.namespace
	if f.allNamespaces {
		if len(names) > 0 {
			return errors.New("a resource cannot be retrieved by name across all namespaces")
		}
		ns = ""
	}

	var pods []v1.Pod
	var missing []error
	if len(names) == 0 {
		list, err := client.ListPods(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		if len(list.Items) == 0 {
			noResources(cmd.ErrOrStderr(), ns)
			return nil
		}
		pods = list.Items
	} else {
		var list *v1.PodList // fetched once, if a name needs prefix matching
		for _, name := range names {
			pod, err := client.GetPod(ctx, ns, name)
			if err == nil {
				pods = append(pods, *pod)
				continue
			}
			if !server.IsNotFound(err) {
				return cliError(err)
			}
			notFound := cliError(err)
			// Like kubectl, a name that matches no pod describes the pods
			// whose names it begins.
			if list == nil {
				if list, err = client.ListPods(ctx, ns); err != nil {
					return cliError(err)
				}
			}
			found := false
			for _, p := range list.Items {
				if strings.HasPrefix(p.Name, name) {
					pods, found = append(pods, p), true
				}
			}
			if !found {
				missing = append(missing, notFound)
			}
		}
	}

	out := cmd.OutOrStdout()
	now := time.Now()
	for i := range pods {
		p := &pods[i]
		// Events are a bonus: describe the pod even when they cannot be read.
		events, err := client.PodEvents(ctx, p.Namespace, p.Name)
		if err != nil {
			events = nil
		}
		var b bytes.Buffer
		if err := printers.DescribePod(&b, p, events, now); err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprint(out, "\n\n")
		}
		if _, err := out.Write(b.Bytes()); err != nil {
			return fmt.Errorf("write description: %w", err)
		}
	}
	return errors.Join(missing...)
}
