package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// allKinds are the kinds `get all` shows, in kubectl's order, with the
// prefix of their names.
var allKinds = []struct {
	kind   objectKind
	prefix string
}{
	{"pods", "pod/"},
	{kindDS, "daemonset.apps/"},
	{kindDeploy, "deployment.apps/"},
	{kindRS, "replicaset.apps/"},
	{kindSTS, "statefulset.apps/"},
	{kindCJ, "cronjob.batch/"},
	{kindJob, "job.batch/"},
}

// runGetAll is `minilet get all`: every kind of the category "all" that
// has objects, one table each with kind-prefixed names, as kubectl does.
func runGetAll(ctx context.Context, client *server.Client, f *getFlags, out, errOut io.Writer) error {
	if f.watch || f.watchOnly {
		return errors.New("minilet get all cannot watch")
	}
	format, err := printers.ParseFormat(f.output)
	if err != nil {
		return err
	}
	ns := f.namespace
	if f.allNamespaces {
		ns = ""
	}
	now := time.Now()
	var items []any // for json and yaml: one List of every kind
	printed := 0
	for _, k := range allKinds {
		var list any
		n := 0
		if k.kind == "pods" {
			pods, err := client.ListPods(ctx, ns)
			if err != nil {
				return cliError(err)
			}
			list, n = pods.Items, len(pods.Items)
		} else {
			var missing error
			list, n, missing, err = fetchObjects(ctx, client, k.kind, ns, nil)
			if err != nil {
				return err
			}
			_ = missing
		}
		if n == 0 {
			continue
		}
		if format == printers.FormatJSON || format == printers.FormatYAML {
			items = append(items, typedItems(list)...)
			continue
		}
		if printed > 0 && format != printers.FormatName {
			fmt.Fprintln(out)
		}
		printed++
		opts := printers.Options{Format: format, AllNamespaces: f.allNamespaces, ShowLabels: f.showLabels, NoHeaders: f.noHeaders, KindPrefix: k.prefix}
		switch l := list.(type) {
		case []v1.Pod:
			err = printers.PrintPods(out, l, opts, now)
		case []appsv1.DaemonSet:
			err = printers.PrintDaemonSets(out, l, opts, now)
		case []appsv1.Deployment:
			err = printers.PrintDeployments(out, l, opts, now)
		case []appsv1.ReplicaSet:
			err = printers.PrintReplicaSets(out, l, opts, now)
		case []appsv1.StatefulSet:
			err = printers.PrintStatefulSets(out, l, opts, now)
		case []batchv1.CronJob:
			err = printers.PrintCronJobs(out, l, opts, now)
		case []batchv1.Job:
			err = printers.PrintJobs(out, l, opts, now)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case format == printers.FormatJSON || format == printers.FormatYAML:
		if items == nil {
			items = []any{}
		}
		l := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}
		if format == printers.FormatJSON {
			return printers.PrintJSON(out, l)
		}
		return printers.PrintYAML(out, l)
	case printed == 0:
		noResources(errOut, ns)
	}
	return nil
}

// typedItems sets each object's kind and apiVersion, for a mixed List.
func typedItems(list any) []any {
	switch l := list.(type) {
	case []v1.Pod:
		return typed(l, "v1", "Pod", func(o *v1.Pod) *metav1.TypeMeta { return &o.TypeMeta })
	case []appsv1.DaemonSet:
		return typed(l, "apps/v1", "DaemonSet", func(o *appsv1.DaemonSet) *metav1.TypeMeta { return &o.TypeMeta })
	case []appsv1.Deployment:
		return typed(l, "apps/v1", "Deployment", func(o *appsv1.Deployment) *metav1.TypeMeta { return &o.TypeMeta })
	case []appsv1.ReplicaSet:
		return typed(l, "apps/v1", "ReplicaSet", func(o *appsv1.ReplicaSet) *metav1.TypeMeta { return &o.TypeMeta })
	case []appsv1.StatefulSet:
		return typed(l, "apps/v1", "StatefulSet", func(o *appsv1.StatefulSet) *metav1.TypeMeta { return &o.TypeMeta })
	case []batchv1.CronJob:
		return typed(l, "batch/v1", "CronJob", func(o *batchv1.CronJob) *metav1.TypeMeta { return &o.TypeMeta })
	case []batchv1.Job:
		return typed(l, "batch/v1", "Job", func(o *batchv1.Job) *metav1.TypeMeta { return &o.TypeMeta })
	}
	return nil
}

func typed[T any](items []T, apiVersion, kind string, meta func(*T) *metav1.TypeMeta) []any {
	out := make([]any, 0, len(items))
	for _, it := range items {
		*meta(&it) = metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
		out = append(out, it)
	}
	return out
}
