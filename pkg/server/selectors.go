package server

import (
	"fmt"
	"net/http"
	"net/url"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// PodSelector is a list request's labelSelector and fieldSelector, in the
// API server's syntax ("app=web,tier!=db", "status.phase=Running").
type PodSelector struct {
	Labels string
	Fields string
}

// query adds the selector to a request's query.
func (s PodSelector) query(q url.Values) {
	if s.Labels != "" {
		q.Set("labelSelector", s.Labels)
	}
	if s.Fields != "" {
		q.Set("fieldSelector", s.Fields)
	}
}

// podFields are the fields a pod's fieldSelector may name, as the API
// server converts them for pods.
func podFields(p *v1.Pod) fields.Set {
	return fields.Set{
		"metadata.name":            p.Name,
		"metadata.namespace":       p.Namespace,
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         fmt.Sprint(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// podMatcher tells whether a pod matches a request's selectors.
type podMatcher struct {
	labels labels.Selector
	fields fields.Selector
}

// parsePodSelector reads labelSelector and fieldSelector of a request; its
// error is worded as the API server's.
func parsePodSelector(q url.Values) (podMatcher, error) {
	m := podMatcher{labels: labels.Everything(), fields: fields.Everything()}
	if s := q.Get("labelSelector"); s != "" {
		sel, err := labels.Parse(s)
		if err != nil {
			return m, fmt.Errorf("unable to parse requirement: %w", err)
		}
		m.labels = sel
	}
	if s := q.Get("fieldSelector"); s != "" {
		sel, err := fields.ParseSelector(s)
		if err != nil {
			return m, err
		}
		known := podFields(&v1.Pod{})
		for _, r := range sel.Requirements() {
			if _, ok := known[r.Field]; !ok {
				return m, fmt.Errorf("field label not supported: %s", r.Field)
			}
		}
		m.fields = sel
	}
	return m, nil
}

func (m podMatcher) match(p *v1.Pod) bool {
	return m.labels.Matches(labels.Set(p.Labels)) && m.fields.Matches(podFields(p))
}

// filter keeps the pods that match.
func (m podMatcher) filter(pods []v1.Pod) []v1.Pod {
	out := pods[:0:0]
	for i := range pods {
		if m.match(&pods[i]) {
			out = append(out, pods[i])
		}
	}
	return out
}

// selectorOf answers 400 and returns false when the request's selectors
// do not parse.
func selectorOf(w http.ResponseWriter, r *http.Request) (podMatcher, bool) {
	m, err := parsePodSelector(r.URL.Query())
	if err != nil {
		writeStatus(w, newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error()))
		return m, false
	}
	return m, true
}
