package server

// The endpoints of the workloads from the manifest directory, at the
// paths of their API groups:
//
//	GET /apis/apps/v1[/namespaces/{ns}]/deployments[/{name}]    appsv1.DeploymentList, appsv1.Deployment
//	GET /apis/apps/v1[/namespaces/{ns}]/replicasets[/{name}]    appsv1.ReplicaSetList, ...
//	GET /apis/apps/v1[/namespaces/{ns}]/statefulsets[/{name}]   appsv1.StatefulSetList, ...
//	GET /apis/apps/v1[/namespaces/{ns}]/daemonsets[/{name}]     appsv1.DaemonSetList, ...
//	GET /apis/batch/v1[/namespaces/{ns}]/jobs[/{name}]          batchv1.JobList, ...
//	GET /apis/batch/v1[/namespaces/{ns}]/cronjobs[/{name}]      batchv1.CronJobList, ...
//	GET /apis/{group}/v1/namespaces/{ns}/{resource}/{name}/events  v1.EventList of its controller
//
// They answer 404 when the daemon has no WorkloadSource.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkloadSource gives the workloads with their status, sorted by
// namespace and name, and their controllers' events.
type WorkloadSource interface {
	Deployments() []appsv1.Deployment
	ReplicaSets() []appsv1.ReplicaSet
	StatefulSets() []appsv1.StatefulSet
	DaemonSets() []appsv1.DaemonSet
	Jobs() []batchv1.Job
	CronJobs() []batchv1.CronJob
	// Restart rolls out a Deployment, StatefulSet or DaemonSet (kind)
	// again, as `kubectl rollout restart`.
	Restart(kind, namespace, name string) error
	// CreateJobFromCronJob runs a Job of a CronJob now (job "": a
	// generated name) and returns its name.
	CreateJobFromCronJob(namespace, cronJob, job string) (string, error)
	// Events of the workload kind (Deployment, ReplicaSet, StatefulSet,
	// DaemonSet, Job)
	// namespace/name, oldest first.
	Events(kind, namespace, name string) []v1.Event
}

// fromWorkloads lists a kind from the server's WorkloadSource (false:
// the daemon has none).
func fromWorkloads[T any](list func(WorkloadSource) []T) func(*Server) ([]T, bool) {
	return func(s *Server) ([]T, bool) {
		if s.workloads == nil {
			return nil, false
		}
		return list(s.workloads), true
	}
}

var (
	deploymentKind = objectKind[appsv1.Deployment]{"deployments", "DeploymentList", "apps/v1",
		fromWorkloads(WorkloadSource.Deployments), func(d *appsv1.Deployment) metav1.ObjectMeta { return d.ObjectMeta }}
	replicaSetKind = objectKind[appsv1.ReplicaSet]{"replicasets", "ReplicaSetList", "apps/v1",
		fromWorkloads(WorkloadSource.ReplicaSets), func(d *appsv1.ReplicaSet) metav1.ObjectMeta { return d.ObjectMeta }}
	statefulSetKind = objectKind[appsv1.StatefulSet]{"statefulsets", "StatefulSetList", "apps/v1",
		fromWorkloads(WorkloadSource.StatefulSets), func(d *appsv1.StatefulSet) metav1.ObjectMeta { return d.ObjectMeta }}
	daemonSetKind = objectKind[appsv1.DaemonSet]{"daemonsets", "DaemonSetList", "apps/v1",
		fromWorkloads(WorkloadSource.DaemonSets), func(d *appsv1.DaemonSet) metav1.ObjectMeta { return d.ObjectMeta }}
	cronJobKind = objectKind[batchv1.CronJob]{"cronjobs", "CronJobList", "batch/v1",
		fromWorkloads(WorkloadSource.CronJobs), func(d *batchv1.CronJob) metav1.ObjectMeta { return d.ObjectMeta }}
	jobKind = objectKind[batchv1.Job]{"jobs", "JobList", "batch/v1",
		fromWorkloads(WorkloadSource.Jobs), func(d *batchv1.Job) metav1.ObjectMeta { return d.ObjectMeta }}
)

func (s *Server) workloadRoutes() []route {
	var out []route
	add := func(group, resource, kind string, list, get http.HandlerFunc) {
		base := "/apis/" + group
		ns := base + "/namespaces/{namespace}/" + resource
		out = append(out,
			route{base + "/" + resource, list},
			route{ns, list},
			route{ns + "/{name}", get},
			route{ns + "/{name}/events", s.workloadEvents(kind)})
	}
	add("apps/v1", "deployments", "Deployment", deploymentKind.list(s), deploymentKind.get(s))
	add("apps/v1", "replicasets", "ReplicaSet", replicaSetKind.list(s), replicaSetKind.get(s))
	add("apps/v1", "statefulsets", "StatefulSet", statefulSetKind.list(s), statefulSetKind.get(s))
	add("apps/v1", "daemonsets", "DaemonSet", daemonSetKind.list(s), daemonSetKind.get(s))
	add("batch/v1", "cronjobs", "CronJob", cronJobKind.list(s), cronJobKind.get(s))
	add("batch/v1", "jobs", "Job", jobKind.list(s), jobKind.get(s))
	return append(out,
		route{"POST /apis/batch/v1/namespaces/{namespace}/cronjobs/{name}/jobs", s.createJobFromCronJob},
		route{"POST /apis/apps/v1/namespaces/{namespace}/deployments/{name}/restart", s.restart("Deployment")},
		route{"POST /apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/restart", s.restart("StatefulSet")},
		route{"POST /apis/apps/v1/namespaces/{namespace}/daemonsets/{name}/restart", s.restart("DaemonSet")},
	)
}

func (s *Server) workloadEvents(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.workloads == nil {
			writeStatus(w, pathNotFound())
			return
		}
		list := v1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}, Items: []v1.Event{}}
		list.Items = append(list.Items, s.workloads.Events(kind, r.PathValue("namespace"), r.PathValue("name"))...)
		writeJSON(w, http.StatusOK, list)
	}
}

// createJobFromCronJob is `create job --from=cronjob/NAME`: ?name=JOB.
func (s *Server) createJobFromCronJob(w http.ResponseWriter, r *http.Request) {
	if s.workloads == nil {
		writeStatus(w, pathNotFound())
		return
	}
	name, err := s.workloads.CreateJobFromCronJob(r.PathValue("namespace"), r.PathValue("name"), r.URL.Query().Get("name"))
	if err != nil {
		code, reason := http.StatusConflict, metav1.StatusReasonAlreadyExists
		if strings.Contains(err.Error(), "not found") {
			code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
		}
		writeStatus(w, newStatus(code, reason, err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", "job.batch/"+name+" created"))
}

// restart is `rollout restart KIND/NAME`.
func (s *Server) restart(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.workloads == nil {
			writeStatus(w, pathNotFound())
			return
		}
		ns, name := r.PathValue("namespace"), r.PathValue("name")
		if err := s.workloads.Restart(kind, ns, name); err != nil {
			writeStatus(w, newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, newStatus(http.StatusOK, "", strings.ToLower(kind)+".apps/"+name+" restarted"))
	}
}

// groupPath is the path of resource in an API group ("apps/v1"), in a
// namespace ("": all).
func groupPath(groupVersion, namespace, resource string) string {
	if namespace == "" {
		return "/apis/" + groupVersion + "/" + resource
	}
	return "/apis/" + groupVersion + "/namespaces/" + url.PathEscape(namespace) + "/" + resource
}

// listIn fetches a list of resource in an API group ("": all
// namespaces).
func listIn[L any](ctx context.Context, c *Client, groupVersion, namespace, resource string) (*L, error) {
	list := new(L)
	return list, c.getJSON(ctx, groupPath(groupVersion, namespace, resource), list)
}

// Deployments lists the Deployments of a namespace ("": all).
func (c *Client) Deployments(ctx context.Context, namespace string) (*appsv1.DeploymentList, error) {
	return listIn[appsv1.DeploymentList](ctx, c, "apps/v1", namespace, "deployments")
}

// ReplicaSets lists the ReplicaSets of a namespace ("": all).
func (c *Client) ReplicaSets(ctx context.Context, namespace string) (*appsv1.ReplicaSetList, error) {
	return listIn[appsv1.ReplicaSetList](ctx, c, "apps/v1", namespace, "replicasets")
}

// StatefulSets lists the StatefulSets of a namespace ("": all).
func (c *Client) StatefulSets(ctx context.Context, namespace string) (*appsv1.StatefulSetList, error) {
	return listIn[appsv1.StatefulSetList](ctx, c, "apps/v1", namespace, "statefulsets")
}

// DaemonSets lists the DaemonSets of a namespace ("": all).
func (c *Client) DaemonSets(ctx context.Context, namespace string) (*appsv1.DaemonSetList, error) {
	return listIn[appsv1.DaemonSetList](ctx, c, "apps/v1", namespace, "daemonsets")
}

// Jobs lists the Jobs of a namespace ("": all).
func (c *Client) Jobs(ctx context.Context, namespace string) (*batchv1.JobList, error) {
	return listIn[batchv1.JobList](ctx, c, "batch/v1", namespace, "jobs")
}

// CronJobs lists the CronJobs of a namespace ("": all).
func (c *Client) CronJobs(ctx context.Context, namespace string) (*batchv1.CronJobList, error) {
	return listIn[batchv1.CronJobList](ctx, c, "batch/v1", namespace, "cronjobs")
}

// CreateJobFromCronJob runs a Job of the CronJob now (job "": a generated
// name) and returns the daemon's message.
func (c *Client) CreateJobFromCronJob(ctx context.Context, namespace, cronJob, job string) (string, error) {
	path := groupPath("batch/v1", namespace, "cronjobs") + "/" + url.PathEscape(cronJob) + "/jobs"
	if job != "" {
		path += "?name=" + url.QueryEscape(job)
	}
	return c.postForMessage(ctx, path)
}

// Restart rolls a workload out again: resource is "deployments",
// "statefulsets" or "daemonsets".
func (c *Client) Restart(ctx context.Context, resource, namespace, name string) (string, error) {
	return c.postForMessage(ctx, groupPath("apps/v1", namespace, resource)+"/"+url.PathEscape(name)+"/restart")
}

// postForMessage POSTs to path and returns the message of the Status the
// daemon answers.
func (c *Client) postForMessage(ctx context.Context, path string) (string, error) {
	body, err := c.do(ctx, c.http, http.MethodPost, path)
	if err != nil {
		return "", err
	}
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return "", err
	}
	return st.Message, nil
}

// WorkloadEvents returns the events of a workload: resource is
// "deployments", "replicasets", "statefulsets", "daemonsets" or "jobs".
func (c *Client) WorkloadEvents(ctx context.Context, resource, namespace, name string) (*v1.EventList, error) {
	gv := "apps/v1"
	if resource == "jobs" || resource == "cronjobs" {
		gv = "batch/v1"
	}
	list := &v1.EventList{}
	return list, c.getJSON(ctx, groupPath(gv, namespace, resource)+"/"+url.PathEscape(name)+"/events", list)
}
