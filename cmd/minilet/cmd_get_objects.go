package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minilet/minilet/pkg/printers"
	"github.com/minilet/minilet/pkg/server"
)

// objectKind is a kind of object from the manifest directory that get and
// describe show.
type objectKind string

const (
	kindConfigMap objectKind = "configmaps"
	kindSecret    objectKind = "secrets"
	kindClaim     objectKind = "persistentvolumeclaims"
	kindDeploy    objectKind = "deployments"
	kindRS        objectKind = "replicasets"
	kindJob       objectKind = "jobs"
	kindSTS       objectKind = "statefulsets"
	kindDS        objectKind = "daemonsets"
	kindCJ        objectKind = "cronjobs"
)

// objectResource recognizes kubectl's names of the object kinds.
func objectResource(s string) (objectKind, bool) {
	switch strings.ToLower(s) {
	case "configmaps", "configmap", "cm":
		return kindConfigMap, true
	case "secrets", "secret":
		return kindSecret, true
	case "persistentvolumeclaims", "persistentvolumeclaim", "pvc":
		return kindClaim, true
	case "deployments", "deployment", "deploy", "deployments.apps", "deployment.apps":
		return kindDeploy, true
	case "replicasets", "replicaset", "rs", "replicasets.apps", "replicaset.apps":
		return kindRS, true
	case "jobs", "job", "jobs.batch", "job.batch":
		return kindJob, true
	case "statefulsets", "statefulset", "sts", "statefulsets.apps", "statefulset.apps":
		return kindSTS, true
	case "daemonsets", "daemonset", "ds", "daemonsets.apps", "daemonset.apps":
		return kindDS, true
	case "cronjobs", "cronjob", "cj", "cronjobs.batch", "cronjob.batch":
		return kindCJ, true
	}
	return "", false
}

// objectArgs is nodeArgs for ConfigMaps, Secrets and claims: ok is false
// when args name another kind.
func objectArgs(args []string) (kind objectKind, names []string, ok bool, err error) {
	if len(args) == 0 {
		return "", nil, false, nil
	}
	first, _, hasSlash := strings.Cut(args[0], "/")
	kind, ok = objectResource(first)
	if !ok {
		return "", nil, false, nil
	}
	if !hasSlash {
		return kind, args[1:], true, nil
	}
	for _, a := range args {
		typ, name, found := strings.Cut(a, "/")
		k, known := objectResource(typ)
		if !found || !known || k != kind || name == "" {
			return kind, nil, true, fmt.Errorf("arguments in resource/name form must all name %s: %q", kind, a)
		}
		names = append(names, name)
	}
	return kind, names, true, nil
}

// fetchObjects fetches the objects of kind in ns ("": all namespaces),
// keeping the named ones (all when names is empty); names that match none
// are reported in missing, as kubectl reports them, after the others.
func fetchObjects(ctx context.Context, c *server.Client, kind objectKind, ns string, names []string) (items any, n int, missing, err error) {
	found := map[string]bool{}
	switch kind {
	case kindConfigMap:
		items, n, err = fetchKind(ctx, ns, names, found, c.ConfigMaps, func(l *v1.ConfigMapList) []v1.ConfigMap { return l.Items }, func(o *v1.ConfigMap) string { return o.Name })
	case kindSecret:
		items, n, err = fetchKind(ctx, ns, names, found, c.Secrets, func(l *v1.SecretList) []v1.Secret { return l.Items }, func(o *v1.Secret) string { return o.Name })
	case kindClaim:
		items, n, err = fetchKind(ctx, ns, names, found, c.Claims, func(l *v1.PersistentVolumeClaimList) []v1.PersistentVolumeClaim { return l.Items }, func(o *v1.PersistentVolumeClaim) string { return o.Name })
	case kindDeploy:
		items, n, err = fetchKind(ctx, ns, names, found, c.Deployments, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }, func(o *appsv1.Deployment) string { return o.Name })
	case kindRS:
		items, n, err = fetchKind(ctx, ns, names, found, c.ReplicaSets, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items }, func(o *appsv1.ReplicaSet) string { return o.Name })
	case kindSTS:
		items, n, err = fetchKind(ctx, ns, names, found, c.StatefulSets, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }, func(o *appsv1.StatefulSet) string { return o.Name })
	case kindDS:
		items, n, err = fetchKind(ctx, ns, names, found, c.DaemonSets, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }, func(o *appsv1.DaemonSet) string { return o.Name })
	case kindCJ:
		items, n, err = fetchKind(ctx, ns, names, found, c.CronJobs, func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }, func(o *batchv1.CronJob) string { return o.Name })
	case kindJob:
		items, n, err = fetchKind(ctx, ns, names, found, c.Jobs, func(l *batchv1.JobList) []batchv1.Job { return l.Items }, func(o *batchv1.Job) string { return o.Name })
	}
	if err != nil {
		return nil, 0, nil, err
	}
	var notFound []error
	for _, name := range names {
		if !found[name] {
			notFound = append(notFound, fmt.Errorf("Error from server (NotFound): %s %q not found", kind, name))
		}
	}
	return items, n, errors.Join(notFound...), nil
}

// fetchKind lists one kind and keeps the named objects (all when names
// is empty), marking each name found.
func fetchKind[L any, T any](ctx context.Context, ns string, names []string, found map[string]bool,
	list func(context.Context, string) (*L, error), items func(*L) []T, name func(*T) string) ([]T, int, error) {
	l, err := list(ctx, ns)
	if err != nil {
		return nil, 0, cliError(err)
	}
	var out []T
	for _, it := range items(l) {
		if n := name(&it); len(names) == 0 || contains(names, n) {
			out, found[n] = append(out, it), true
		}
	}
	return out, len(out), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runGetObjects is `minilet get configmaps|secrets|pvc [NAME...]`.
func runGetObjects(ctx context.Context, client *server.Client, kind objectKind, names []string, f *getFlags, out, errOut io.Writer) error {
	if f.watch || f.watchOnly {
		return fmt.Errorf("minilet get %s cannot watch", kind)
	}
	format, err := printers.ParseFormat(f.output)
	if err != nil {
		return err
	}
	if f.allNamespaces && len(names) > 0 {
		return errors.New("a resource cannot be retrieved by name across all namespaces")
	}
	ns := f.namespace
	if f.allNamespaces {
		ns = ""
	}
	items, n, missing, err := fetchObjects(ctx, client, kind, ns, names)
	if err != nil {
		return err
	}
	opts := printers.Options{Format: format, AllNamespaces: f.allNamespaces, ShowLabels: f.showLabels, NoHeaders: f.noHeaders, Single: len(names) == 1}
	if n == 0 {
		if len(names) == 0 && format != printers.FormatJSON && format != printers.FormatYAML {
			noResources(errOut, ns)
		}
		return missing
	}
	now := time.Now()
	switch list := items.(type) {
	case []v1.ConfigMap:
		err = printers.PrintConfigMaps(out, list, opts, now)
	case []v1.Secret:
		err = printers.PrintSecrets(out, list, opts, now)
	case []v1.PersistentVolumeClaim:
		err = printers.PrintClaims(out, list, opts, now)
	case []appsv1.Deployment:
		err = printers.PrintDeployments(out, list, opts, now)
	case []appsv1.ReplicaSet:
		err = printers.PrintReplicaSets(out, list, opts, now)
	case []batchv1.Job:
		err = printers.PrintJobs(out, list, opts, now)
	case []appsv1.StatefulSet:
		err = printers.PrintStatefulSets(out, list, opts, now)
	case []appsv1.DaemonSet:
		err = printers.PrintDaemonSets(out, list, opts, now)
	case []batchv1.CronJob:
		err = printers.PrintCronJobs(out, list, opts, now)
	}
	return errors.Join(err, missing)
}

// runDescribeObjects is `minilet describe configmap|secret|pvc [NAME...]`.
func runDescribeObjects(ctx context.Context, client *server.Client, kind objectKind, names []string, ns string, out, errOut io.Writer) error {
	items, n, missing, err := fetchObjects(ctx, client, kind, ns, names)
	if err != nil {
		return err
	}
	if n == 0 {
		if len(names) == 0 {
			noResources(errOut, ns)
		}
		return missing
	}
	var errs []error
	first := true
	sep := func() {
		if !first {
			fmt.Fprintln(out)
		}
		first = false
	}
	switch list := items.(type) {
	case []v1.ConfigMap:
		for i := range list {
			sep()
			errs = append(errs, printers.DescribeConfigMap(out, &list[i]))
		}
	case []v1.Secret:
		for i := range list {
			sep()
			errs = append(errs, printers.DescribeSecret(out, &list[i], server.AnnotationDataBytes))
		}
	case []v1.PersistentVolumeClaim:
		vols, err := client.Volumes(ctx)
		if err != nil {
			return cliError(err)
		}
		for i := range list {
			sep()
			c := &list[i]
			var users []string
			path := ""
			enforced := false
			for _, v := range vols {
				if v.Namespace == c.Namespace && v.Name == c.Name {
					users, path, enforced = v.Pods, v.Path, v.Enforced
				}
			}
			errs = append(errs, printers.DescribeClaim(out, c, users, path, enforced))
		}
	case []appsv1.Deployment:
		rss, err := client.ReplicaSets(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		for i := range list {
			sep()
			d := &list[i]
			var owned []appsv1.ReplicaSet
			for _, rs := range rss.Items {
				if metav1.IsControlledBy(&rs, d) {
					owned = append(owned, rs)
				}
			}
			evs, err := client.WorkloadEvents(ctx, "deployments", d.Namespace, d.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeDeployment(out, d, owned, evs.Items, time.Now()))
		}
	case []appsv1.ReplicaSet:
		pods, err := client.ListPods(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		for i := range list {
			sep()
			r := &list[i]
			evs, err := client.WorkloadEvents(ctx, "replicasets", r.Namespace, r.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeReplicaSet(out, r, ownedPods(pods.Items, r.UID), evs.Items, time.Now()))
		}
	case []appsv1.StatefulSet:
		pods, err := client.ListPods(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		for i := range list {
			sep()
			ss := &list[i]
			evs, err := client.WorkloadEvents(ctx, "statefulsets", ss.Namespace, ss.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeStatefulSet(out, ss, ownedPods(pods.Items, ss.UID), evs.Items, time.Now()))
		}
	case []appsv1.DaemonSet:
		pods, err := client.ListPods(ctx, ns)
		if err != nil {
			return cliError(err)
		}
		for i := range list {
			sep()
			ds := &list[i]
			evs, err := client.WorkloadEvents(ctx, "daemonsets", ds.Namespace, ds.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeDaemonSet(out, ds, ownedPods(pods.Items, ds.UID), evs.Items, time.Now()))
		}
	case []batchv1.CronJob:
		for i := range list {
			sep()
			c := &list[i]
			evs, err := client.WorkloadEvents(ctx, "cronjobs", c.Namespace, c.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeCronJob(out, c, evs.Items, time.Now()))
		}
	case []batchv1.Job:
		for i := range list {
			sep()
			j := &list[i]
			evs, err := client.WorkloadEvents(ctx, "jobs", j.Namespace, j.Name)
			if err != nil {
				return cliError(err)
			}
			errs = append(errs, printers.DescribeJob(out, j, evs.Items, time.Now()))
		}
	}
	return errors.Join(append(errs, missing)...)
}

// ownedPods are the pods whose controller has uid.
func ownedPods(pods []v1.Pod, uid types.UID) []v1.Pod {
	var out []v1.Pod
	for _, p := range pods {
		if c := metav1.GetControllerOf(&p); c != nil && c.UID == uid {
			out = append(out, p)
		}
	}
	return out
}
