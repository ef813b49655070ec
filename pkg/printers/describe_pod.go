package printers

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DescribePod writes pod as `kubectl describe pod` does. events, when not
// nil, are shown in an Events table (<none> when empty); a nil list (the
// events could not be read) leaves the section out, as kubectl does.
func DescribePod(w io.Writer, pod *v1.Pod, events *v1.EventList, now time.Time) error {
	pw := newPrefixWriter(tabwriter.NewWriter(w, 0, 8, 2, ' ', 0))
	pw.write(level0, "Name:\t%s\n", pod.Name)
	pw.write(level0, "Namespace:\t%s\n", pod.Namespace)
	priority := int32(0)
	if pod.Spec.Priority != nil {
		priority = *pod.Spec.Priority
	}
	pw.write(level0, "Priority:\t%d\n", priority)
	if pod.Spec.PriorityClassName != "" {
		pw.write(level0, "Priority Class Name:\t%s\n", pod.Spec.PriorityClassName)
	}
	if rc := pod.Spec.RuntimeClassName; rc != nil && *rc != "" {
		pw.write(level0, "Runtime Class Name:\t%s\n", *rc)
	}
	if pod.Spec.ServiceAccountName != "" {
		pw.write(level0, "Service Account:\t%s\n", pod.Spec.ServiceAccountName)
	}
	if pod.Spec.NodeName == "" {
		pw.write(level0, "Node:\t<none>\n")
	} else {
		pw.write(level0, "Node:\t%s\n", pod.Spec.NodeName+"/"+pod.Status.HostIP)
	}
	if pod.Status.StartTime != nil {
		pw.write(level0, "Start Time:\t%s\n", pod.Status.StartTime.Format(time.RFC1123Z))
	}
	writeLabels(pw, "Labels", pod.Labels)
	writeAnnotations(pw, "Annotations", pod.Annotations)
	if pod.DeletionTimestamp != nil && pod.Status.Phase != v1.PodFailed && pod.Status.Phase != v1.PodSucceeded {
		pw.write(level0, "Status:\tTerminating (lasts %s)\n", Age(*pod.DeletionTimestamp, now))
		if pod.DeletionGracePeriodSeconds != nil {
			pw.write(level0, "Termination Grace Period:\t%ds\n", *pod.DeletionGracePeriodSeconds)
		}
	} else {
		pw.write(level0, "Status:\t%s\n", pod.Status.Phase)
	}
	if pod.Status.Reason != "" {
		pw.write(level0, "Reason:\t%s\n", pod.Status.Reason)
	}
	if pod.Status.Message != "" {
		pw.write(level0, "Message:\t%s\n", pod.Status.Message)
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		writeSeccomp(pw, level0, sc.SeccompProfile)
	}
	pw.write(level0, "IP:\t%s\n", pod.Status.PodIP)
	if len(pod.Status.PodIPs) == 0 {
		pw.write(level0, "IPs:\t<none>\n")
	} else {
		pw.write(level0, "IPs:\n")
		for _, ip := range pod.Status.PodIPs {
			pw.write(level1, "IP:\t%s\n", ip.IP)
		}
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		pw.write(level0, "Controlled By:\t%s/%s\n", ref.Kind, ref.Name)
	}
	if pod.Status.NominatedNodeName != "" {
		pw.write(level0, "NominatedNodeName:\t%s\n", pod.Status.NominatedNodeName)
	}
	if len(pod.Spec.InitContainers) > 0 {
		describeContainers(pw, "Init Containers", pod, pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	}
	describeContainers(pw, "Containers", pod, pod.Spec.Containers, pod.Status.ContainerStatuses)
	if len(pod.Spec.EphemeralContainers) > 0 {
		ecs := make([]v1.Container, len(pod.Spec.EphemeralContainers))
		for i, ec := range pod.Spec.EphemeralContainers {
			ecs[i] = v1.Container(ec.EphemeralContainerCommon)
		}
		describeContainers(pw, "Ephemeral Containers", pod, ecs, pod.Status.EphemeralContainerStatuses)
	}
	if len(pod.Spec.ReadinessGates) > 0 {
		pw.write(level0, "Readiness Gates:\n  Type\tStatus\n")
		for _, g := range pod.Spec.ReadinessGates {
			status := "<none>"
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType {
					status = string(c.Status)
					break
				}
			}
			pw.write(level1, "%s \t%s \n", g.ConditionType, status)
		}
	}
	if len(pod.Status.Conditions) > 0 {
		pw.write(level0, "Conditions:\n  Type\tStatus\n")
		for _, c := range pod.Status.Conditions {
			pw.write(level1, "%s \t%s \n", c.Type, c.Status)
		}
	}
	describeVolumes(pw, pod.Spec.Volumes)
	pw.write(level0, "QoS Class:\t%s\n", podQOS(pod))
	writeLabels(pw, "Node-Selectors", pod.Spec.NodeSelector)
	writeTolerations(pw, "Tolerations", pod.Spec.Tolerations)
	if events != nil {
		describeEvents(pw, events.Items, now)
	}
	pw.flush()
	if pw.err != nil {
		return fmt.Errorf("describe pod %s/%s: %w", pod.Namespace, pod.Name, pw.err)
	}
	return nil
}

func writeSeccomp(pw *prefixWriter, level int, p *v1.SeccompProfile) {
	pw.write(level, "SeccompProfile:\t%s\n", p.Type)
	if p.Type == v1.SeccompProfileTypeLocalhost && p.LocalhostProfile != nil {
		pw.write(level+1, "LocalhostProfile:\t%s\n", *p.LocalhostProfile)
	}
}
