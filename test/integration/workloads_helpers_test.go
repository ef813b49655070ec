package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deployment fetches one Deployment from the daemon's API.
func (d *daemon) deployment(name string) (*appsv1.Deployment, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := d.Client.Deployments(ctx, "default")
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Name == name {
			return &list.Items[i], nil
		}
	}
	return nil, fmt.Errorf("deployment %s not listed", name)
}

// waitAvailable waits until the Deployment name has n available
// replicas.
func (d *daemon) waitAvailable(name string, n int32, timeout time.Duration) {
	d.t.Helper()
	d.eventually(timeout, fmt.Sprintf("%d replicas of %s are available", n, name), func() error {
		dep, err := d.deployment(name)
		if err != nil {
			return err
		}
		if dep.Status.AvailableReplicas != n {
			return fmt.Errorf("status %+v", dep.Status)
		}
		return nil
	})
}

// job fetches one Job from the daemon's API.
func (d *daemon) job(name string) (*batchv1.Job, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := d.Client.Jobs(ctx, "default")
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Name == name {
			return &list.Items[i], nil
		}
	}
	return nil, fmt.Errorf("job %s not listed", name)
}

// podsOwnedBy lists the pods whose controller is kind/name (a ReplicaSet
// name may be a prefix: "web-" for every ReplicaSet of Deployment web).
func (d *daemon) podsOwnedBy(kind, namePrefix string) ([]v1.Pod, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := d.Client.ListPods(ctx, "default")
	if err != nil {
		return nil, err
	}
	var out []v1.Pod
	for _, p := range list.Items {
		if c := metav1.GetControllerOf(&p); c != nil && c.Kind == kind && strings.HasPrefix(c.Name, namePrefix) {
			out = append(out, p)
		}
	}
	return out, nil
}

// poller watches a condition over the pods in the background until
// stopped, and keeps the worst value it saw.
type poller struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	worst int
	at    string
	polls int
}

// pollPods runs measure on the daemon's pods every 50 ms; worse says
// whether a value is worse than the worst so far.
func (d *daemon) pollPods(measure func([]v1.Pod) (int, string), worse func(a, b int) bool, initial int) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{}), worst: initial}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			list, err := d.Client.ListPods(ctx, "default")
			cancel()
			if err != nil {
				continue
			}
			v, what := measure(list.Items)
			p.mu.Lock()
			p.polls++
			if worse(v, p.worst) {
				p.worst, p.at = v, what
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *poller) finish() (worst int, at string, polls int) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.worst, p.at, p.polls
}

func deployCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t && j.Status.Conditions[i].Status == v1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// summarize lists pods as "name phase ready" for failure messages.
func summarize(pods []v1.Pod) string {
	var parts []string
	for _, p := range pods {
		s := fmt.Sprintf("%s %s ready=%t", p.Name, p.Status.Phase, isReady(&p))
		if p.DeletionTimestamp != nil {
			s += " deleting"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
