package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// getFlags are the flags of `minilet get`.
type getFlags struct {
	namespace     string
	allNamespaces bool
	output        string
	showLabels    bool
	noHeaders     bool
	watch         bool
	watchOnly     bool
	selector      string // -l: labels, pods only
	fieldSelector string // --field-selector, pods only
}

func newGetCommand(g *globalFlags) *cobra.Command {
	f := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get pods|nodes|configmaps|secrets|pvc|deploy|rs|sts|ds|jobs|cj|all [NAME...]",
		Short: "list pods and other objects, or show some, like kubectl get",
		Long: `Show pods, nodes, ConfigMaps, Secrets, PersistentVolumeClaims, Deployments,
ReplicaSets, StatefulSets, DaemonSets, Jobs or CronJobs from the running daemon, in
kubectl's formats. The resource type is pods (or pod, po), nodes (node, no),
configmaps (cm), secrets, persistentvolumeclaims (pvc), deployments
(deploy), replicasets (rs), statefulsets (sts), daemonsets (ds), jobs,
cronjobs (cj), or all (pods and every workload kind);
pod/NAME also works. With -w, print the pods, then a row for every change.
Secrets are shown without their values, -o yaml included.`,
		Example: `  minilet get pods
  minilet get pods -A -o wide
  minilet get pod web -o yaml
  minilet get po web db -n kube-system --show-labels
  minilet get pods -w
  minilet get pods -l app=web --field-selector status.phase=Running
  minilet get nodes -o wide
  minilet get configmaps -A
  minilet get secret db-creds -o yaml
  minilet get pvc
  minilet get deploy
  minilet get all
  minilet get jobs -o wide`,
		RunE: func(cmd *cobra.Command, args []string) error { return runGet(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	addNamespaceFlags(cmd, &f.namespace, &f.allNamespaces)
	fl.StringVarP(&f.output, "output", "o", "", "output format: wide, json, yaml or name")
	fl.BoolVar(&f.showLabels, "show-labels", false, "show all labels as the last column")
	fl.BoolVar(&f.noHeaders, "no-headers", false, "do not print the header line")
	fl.BoolVarP(&f.watch, "watch", "w", false, "after listing the pods, watch for changes")
	fl.BoolVar(&f.watchOnly, "watch-only", false, "watch for changes, without listing the pods first")
	fl.StringVarP(&f.selector, "selector", "l", "", "pods whose labels match, e.g. -l app=web,tier!=db or -l 'env in (prod,staging)'")
	fl.StringVar(&f.fieldSelector, "field-selector", "", "pods whose fields match: metadata.name, metadata.namespace, spec.nodeName, status.phase (=, ==, !=), e.g. --field-selector status.phase=Running")
	return cmd
}

// addNamespaceFlags adds -n/--namespace and -A/--all-namespaces.
func addNamespaceFlags(cmd *cobra.Command, namespace *string, all *bool) {
	cmd.Flags().StringVarP(namespace, "namespace", "n", "default", "namespace of the pods")
	cmd.Flags().BoolVarP(all, "all-namespaces", "A", false, "pods of every namespace")
}

func runGet(cmd *cobra.Command, g *globalFlags, f *getFlags, args []string) error {
	selecting := f.selector != "" || f.fieldSelector != ""
	if len(args) == 1 && args[0] == "all" {
		if selecting {
			return errors.New("minilet get all takes no selector yet: -l and --field-selector select pods (minilet get pods -l ...)")
		}
		client := server.NewClient(g.runDir)
		warnManifestErrors(cmd.Context(), client, cmd.ErrOrStderr())
		return runGetAll(cmd.Context(), client, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	if kind, names, ok, err := objectArgs(args); ok || err != nil {
		if err != nil {
			return err
		}
		if selecting {
			return fmt.Errorf("minilet get %s takes no selector yet: -l and --field-selector select pods", kind)
		}
		client := server.NewClient(g.runDir)
		warnManifestErrors(cmd.Context(), client, cmd.ErrOrStderr())
		return runGetObjects(cmd.Context(), client, kind, names, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	if names, ok, err := nodeArgs(args); ok || err != nil {
		if err != nil {
			return err
		}
		if f.watch || f.watchOnly {
			return errors.New("minilet get nodes cannot watch")
		}
		return runGetNodes(cmd, g, &nodeFlags{output: f.output, showLabels: f.showLabels, noHeaders: f.noHeaders}, names, false)
	}
	names, err := podArgs("get", args)
	if err != nil {
		return err
	}
	if selecting && len(names) > 0 {
		return errors.New("name cannot be provided when a selector is specified")
	}
	sel := server.PodSelector{Labels: f.selector, Fields: f.fieldSelector}
	format, err := printers.ParseFormat(f.output)
	if err != nil {
		return err
	}
	if f.allNamespaces && len(names) > 0 {
		return errors.New("a resource cannot be retrieved by name across all namespaces")
	}
	opts := printers.Options{
		Format:        format,
		AllNamespaces: f.allNamespaces,
		ShowLabels:    f.showLabels,
		NoHeaders:     f.noHeaders,
		Single:        len(names) == 1,
	}
	ctx := cmd.Context()
	client := server.NewClient(g.runDir)
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	warnManifestErrors(ctx, client, errOut)
	if f.watch || f.watchOnly {
		ns := f.namespace
		if f.allNamespaces {
			ns = ""
		}
		return watchPods(ctx, &podWatch{client: client, namespace: ns, selector: sel, opts: opts, watchOnly: f.watchOnly, out: out, errOut: errOut}, names)
	}

	if len(names) == 0 {
		ns := f.namespace
		if f.allNamespaces {
			ns = ""
		}
		list, err := client.ListPodsWhere(ctx, ns, sel)
		if err != nil {
			return cliError(err)
		}
		if len(list.Items) == 0 && format != printers.FormatJSON && format != printers.FormatYAML {
			noResources(errOut, ns)
			return nil
		}
		return printers.PrintPods(out, list.Items, opts, time.Now())
	}

	pods, missing, err := getPods(ctx, client, f.namespace, names)
	if err != nil {
		return err
	}
	if len(pods) > 0 {
		if err := printers.PrintPods(out, pods, opts, time.Now()); err != nil {
			return err
		}
	}
	return missing
}

// warnManifestErrors prints the daemon's manifest problems on stderr, as
// kubectl prints server warnings, so a typo in /etc/minilet is seen where
// the operator looks for their pod.
func warnManifestErrors(ctx context.Context, client *server.Client, w io.Writer) {
	errs, err := client.ManifestErrors(ctx)
	if err != nil {
		return // the pod request that follows reports an unreachable daemon
	}
	for _, e := range errs {
		fmt.Fprintln(w, "Warning: manifest not applied:", e)
	}
}

// getPods fetches the named pods. Pods that do not exist are reported
// together in missing, after the others, as kubectl does; any other error
// stops at once.
func getPods(ctx context.Context, client *server.Client, ns string, names []string) (pods []v1.Pod, missing, err error) {
	var notFound []error
	for _, name := range names {
		pod, err := client.GetPod(ctx, ns, name)
		if server.IsNotFound(err) {
			notFound = append(notFound, cliError(err))
			continue
		}
		if err != nil {
			return nil, nil, cliError(err)
		}
		pods = append(pods, *pod)
	}
	return pods, errors.Join(notFound...), nil
}

// podArgs checks that args name pods (`pods a b`, `pod a`, `po`, or
// `pod/a pods/b`) and returns the names.
func podArgs(verb string, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource to %s, e.g. \"minilet %s pods\"", verb, verb)
	}
	if !strings.Contains(args[0], "/") {
		if !isPodResource(args[0]) {
			return nil, unknownResource(args[0])
		}
		return args[1:], nil
	}
	names := make([]string, 0, len(args))
	for _, a := range args {
		typ, name, ok := strings.Cut(a, "/")
		if !ok {
			return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'minilet %s pod/web' instead of 'minilet %s pod pod/web')", verb, verb)
		}
		if !isPodResource(typ) {
			return nil, unknownResource(typ)
		}
		if name == "" {
			return nil, fmt.Errorf("arguments in resource/name form must have a single resource and name: %q", a)
		}
		names = append(names, name)
	}
	return names, nil
}

func isPodResource(s string) bool {
	switch strings.ToLower(s) {
	case "pods", "pod", "po":
		return true
	}
	return false
}

func unknownResource(s string) error {
	return fmt.Errorf("the server doesn't have a resource type %q", s)
}

// noResources says on stderr that a list came back empty, like kubectl.
func noResources(w io.Writer, namespace string) {
	if namespace == "" {
		fmt.Fprintln(w, "No resources found")
		return
	}
	fmt.Fprintf(w, "No resources found in %s namespace.\n", namespace)
}

// apiError is an error answer of the daemon, worded like kubectl's:
// `Error from server (NotFound): pods "web" not found`.
type apiError struct{ err *server.StatusError }

func (e apiError) Error() string {
	return fmt.Sprintf("Error from server (%s): %s", e.err.Status.Reason, e.err.Error())
}

func (e apiError) Unwrap() error { return e.err }

// kubectlStyle marks errors whose text is complete as kubectl prints it,
// so main can print them without its "error: " prefix.
func (apiError) kubectlStyle() {}

// cliError words an API error answer like kubectl; other errors pass.
func cliError(err error) error {
	var se *server.StatusError
	if errors.As(err, &se) {
		return apiError{err: se}
	}
	return err
}
