package printers

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/minilet/minilet/pkg/podsandbox"
	v1 "k8s.io/api/core/v1"
)

// describeContainers writes the Containers (or Init Containers) section.
func describeContainers(pw *prefixWriter, label string, pod *v1.Pod, containers []v1.Container, statuses []v1.ContainerStatus) {
	byName := make(map[string]v1.ContainerStatus, len(statuses))
	for _, s := range statuses {
		byName[s.Name] = s
	}
	if len(containers) == 0 {
		pw.write(level0, "%s: <none>\n", label)
	} else {
		pw.write(level0, "%s:\n", label)
	}
	for i := range containers {
		c := &containers[i]
		status, ok := byName[c.Name]
		describeContainerBasics(pw, c, status, ok)
		describeCommand(pw, c)
		if ok {
			describeState(pw, "State", status.State)
			if status.LastTerminationState.Terminated != nil {
				describeState(pw, "Last State", status.LastTerminationState)
			}
			pw.write(level2, "Ready:\t%s\n", boolString(status.Ready))
			pw.write(level2, "Restart Count:\t%d\n", status.RestartCount)
		}
		describeResources(pw, &c.Resources)
		describeProbes(pw, c)
		if len(c.EnvFrom) > 0 {
			describeEnvFrom(pw, c)
		}
		describeEnv(pw, pod, c)
		describeMounts(pw, c)
	}
}

func describeContainerBasics(pw *prefixWriter, c *v1.Container, status v1.ContainerStatus, ok bool) {
	pw.write(level1, "%s:\n", c.Name)
	if ok {
		pw.write(level2, "Container ID:\t%s\n", status.ContainerID)
	}
	pw.write(level2, "Image:\t%s\n", c.Image)
	if ok {
		pw.write(level2, "Image ID:\t%s\n", status.ImageID)
	}
	var ports, hostPorts []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol))
		hostPorts = append(hostPorts, fmt.Sprintf("%d/%s", p.HostPort, p.Protocol))
	}
	if len(ports) > 1 {
		pw.write(level2, "Ports:\t%s\n", strings.Join(ports, ", "))
		pw.write(level2, "Host Ports:\t%s\n", strings.Join(hostPorts, ", "))
	} else {
		pw.write(level2, "Port:\t%s\n", orNone(strings.Join(ports, "")))
		pw.write(level2, "Host Port:\t%s\n", orNone(strings.Join(hostPorts, "")))
	}
	if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		writeSeccomp(pw, level2, sc.SeccompProfile)
	}
}

func describeCommand(pw *prefixWriter, c *v1.Container) {
	for _, part := range []struct {
		title string
		words []string
	}{{"Command", c.Command}, {"Args", c.Args}} {
		if len(part.words) == 0 {
			continue
		}
		pw.write(level2, "%s:\n", part.title)
		for _, word := range part.words {
			for _, line := range strings.Split(word, "\n") {
				pw.write(level3, "%s\n", line)
			}
		}
	}
}

// describeState writes a container state: Running with its start,
// Waiting with its reason, Terminated with reason, exit code and times.
func describeState(pw *prefixWriter, title string, st v1.ContainerState) {
	switch {
	case st.Running != nil:
		pw.write(level2, "%s:\tRunning\n", title)
		pw.write(level3, "Started:\t%s\n", st.Running.StartedAt.Format(time.RFC1123Z))
	case st.Waiting != nil:
		pw.write(level2, "%s:\tWaiting\n", title)
		if st.Waiting.Reason != "" {
			pw.write(level3, "Reason:\t%s\n", st.Waiting.Reason)
		}
	case st.Terminated != nil:
		t := st.Terminated
		pw.write(level2, "%s:\tTerminated\n", title)
		if t.Reason != "" {
			pw.write(level3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			pw.write(level3, "Message:\t%s\n", t.Message)
		}
		pw.write(level3, "Exit Code:\t%d\n", t.ExitCode)
		if t.Signal > 0 {
			pw.write(level3, "Signal:\t%d\n", t.Signal)
		}
		pw.write(level3, "Started:\t%s\n", t.StartedAt.Format(time.RFC1123Z))
		pw.write(level3, "Finished:\t%s\n", t.FinishedAt.Format(time.RFC1123Z))
	default:
		pw.write(level2, "%s:\tWaiting\n", title)
	}
}

func describeResources(pw *prefixWriter, r *v1.ResourceRequirements) {
	for _, part := range []struct {
		title string
		list  v1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(part.list) == 0 {
			continue
		}
		pw.write(level2, "%s:\n", part.title)
		names := make([]string, 0, len(part.list))
		for n := range part.list {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			q := part.list[v1.ResourceName(n)]
			pw.write(level3, "%s:\t%s\n", n, q.String())
		}
	}
}

func describeProbes(pw *prefixWriter, c *v1.Container) {
	for _, p := range []struct {
		title string
		probe *v1.Probe
	}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
		if p.probe != nil {
			pw.write(level2, "%s:\t%s\n", p.title, DescribeProbe(p.probe))
		}
	}
}

// DescribeProbe is a probe as kubectl describes it, e.g.
// `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`.
func DescribeProbe(p *v1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Path: p.HTTPGet.Path}
		if port := p.HTTPGet.Port.String(); port != "" {
			u.Host = net.JoinHostPort(p.HTTPGet.Host, port)
		} else {
			u.Host = p.HTTPGet.Host
		}
		return fmt.Sprintf("http-get %s %s", u, attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, service, attrs)
	}
	return "unknown " + attrs
}

func describeEnvFrom(pw *prefixWriter, c *v1.Container) {
	pw.write(level2, "Environment Variables from:\n")
	for _, e := range c.EnvFrom {
		from, name, optional := "", "", false
		switch {
		case e.ConfigMapRef != nil:
			from, name = "ConfigMap", e.ConfigMapRef.Name
			optional = e.ConfigMapRef.Optional != nil && *e.ConfigMapRef.Optional
		case e.SecretRef != nil:
			from, name = "Secret", e.SecretRef.Name
			optional = e.SecretRef.Optional != nil && *e.SecretRef.Optional
		}
		if e.Prefix == "" {
			pw.write(level3, "%s\t%s\tOptional: %t\n", name, from, optional)
		} else {
			pw.write(level3, "%s\t%s with prefix '%s'\tOptional: %t\n", name, from, e.Prefix, optional)
		}
	}
}

func describeEnv(pw *prefixWriter, pod *v1.Pod, c *v1.Container) {
	if len(c.Env) == 0 {
		pw.write(level2, "Environment:\t<none>\n")
		return
	}
	pw.write(level2, "Environment:\n")
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			for i, line := range strings.Split(e.Value, "\n") {
				if i == 0 {
					pw.write(level3, "%s:\t%s\n", e.Name, line)
				} else {
					pw.write(level3, "\t%s\n", line)
				}
			}
			continue
		}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			pw.write(level3, "%s:\t%s (%s:%s)\n", e.Name, podsandbox.FieldValue(pod, vf.FieldRef.FieldPath, statusIPs(pod.Status.PodIPs), hostIPsOf(pod.Status)), vf.FieldRef.APIVersion, vf.FieldRef.FieldPath)
		case vf.ResourceFieldRef != nil:
			pw.write(level3, "%s:\t%s (%s)\n", e.Name, resourceValue(c, vf.ResourceFieldRef), vf.ResourceFieldRef.Resource)
		case vf.SecretKeyRef != nil:
			optional := vf.SecretKeyRef.Optional != nil && *vf.SecretKeyRef.Optional
			pw.write(level3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Name, optional)
		case vf.ConfigMapKeyRef != nil:
			optional := vf.ConfigMapKeyRef.Optional != nil && *vf.ConfigMapKeyRef.Optional
			pw.write(level3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Name, optional)
		default:
			pw.write(level3, "%s:\t\n", e.Name)
		}
	}
}

func describeMounts(pw *prefixWriter, c *v1.Container) {
	if len(c.VolumeMounts) == 0 {
		pw.write(level2, "Mounts:\t<none>\n")
	} else {
		pw.write(level2, "Mounts:\n")
	}
	mounts := append([]v1.VolumeMount(nil), c.VolumeMounts...)
	sort.SliceStable(mounts, func(i, j int) bool { return mounts[i].MountPath < mounts[j].MountPath })
	for _, m := range mounts {
		flags := "rw"
		if m.ReadOnly {
			flags = "ro"
		}
		if m.SubPath != "" {
			flags += fmt.Sprintf(",path=%q", m.SubPath)
		}
		pw.write(level3, "%s from %s (%s)\n", m.MountPath, m.Name, flags)
	}
	if len(c.VolumeDevices) > 0 {
		pw.write(level2, "Devices:\n")
		devs := append([]v1.VolumeDevice(nil), c.VolumeDevices...)
		sort.SliceStable(devs, func(i, j int) bool { return devs[i].DevicePath < devs[j].DevicePath })
		for _, d := range devs {
			pw.write(level3, "%s from %s\n", d.DevicePath, d.Name)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
