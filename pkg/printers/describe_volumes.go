package printers

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// describeVolumes writes the Volumes section for the volume kinds a
// single host can have; others show as <unknown>.
func describeVolumes(pw *prefixWriter, volumes []v1.Volume) {
	if len(volumes) == 0 {
		pw.write(level0, "Volumes:\t<none>\n")
		return
	}
	pw.write(level0, "Volumes:\n")
	for _, vol := range volumes {
		pw.write(level1, "%s:\n", vol.Name)
		src := vol.VolumeSource
		switch {
		case src.HostPath != nil:
			typ := "<none>"
			if src.HostPath.Type != nil {
				typ = string(*src.HostPath.Type)
			}
			pw.write(level2, "Type:\tHostPath (bare host directory volume)\n")
			pw.write(level2, "Path:\t%s\n", src.HostPath.Path)
			pw.write(level2, "HostPathType:\t%s\n", typ)
		case src.EmptyDir != nil:
			limit := "<unset>"
			if l := src.EmptyDir.SizeLimit; l != nil && l.Cmp(resource.Quantity{}) > 0 {
				limit = l.String()
			}
			pw.write(level2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
			pw.write(level2, "Medium:\t%s\n", src.EmptyDir.Medium)
			pw.write(level2, "SizeLimit:\t%s\n", limit)
		case src.ConfigMap != nil:
			pw.write(level2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
			pw.write(level2, "Name:\t%s\n", src.ConfigMap.Name)
			pw.write(level2, "Optional:\t%t\n", src.ConfigMap.Optional != nil && *src.ConfigMap.Optional)
		case src.Secret != nil:
			pw.write(level2, "Type:\tSecret (a volume populated by a Secret)\n")
			pw.write(level2, "SecretName:\t%s\n", src.Secret.SecretName)
			pw.write(level2, "Optional:\t%t\n", src.Secret.Optional != nil && *src.Secret.Optional)
		case src.DownwardAPI != nil:
			pw.write(level2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n")
			pw.write(level2, "Items:\n")
			for _, item := range src.DownwardAPI.Items {
				if item.FieldRef != nil {
					pw.write(level3, "%s -> %s\n", item.FieldRef.FieldPath, item.Path)
				}
				if item.ResourceFieldRef != nil {
					pw.write(level3, "%s -> %s\n", item.ResourceFieldRef.Resource, item.Path)
				}
			}
		case src.Projected != nil:
			describeProjected(pw, src.Projected)
		case src.PersistentVolumeClaim != nil:
			pw.write(level2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n")
			pw.write(level2, "ClaimName:\t%s\n", src.PersistentVolumeClaim.ClaimName)
			pw.write(level2, "ReadOnly:\t%t\n", src.PersistentVolumeClaim.ReadOnly)
		case src.Ephemeral != nil:
			pw.write(level2, "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n")
			if t := src.Ephemeral.VolumeClaimTemplate; t != nil {
				if q, ok := t.Spec.Resources.Requests[v1.ResourceStorage]; ok {
					pw.write(level2, "Request:\t%s\n", q.String())
				}
				pw.write(level2, "Access Modes:\t%s\n", AccessModes(t.Spec.AccessModes))
			}
		case src.Image != nil:
			pw.write(level2, "Type:\tImage (a container image or OCI artifact)\n")
			pw.write(level2, "Reference:\t%s\n", src.Image.Reference)
			pw.write(level2, "PullPolicy:\t%s\n", src.Image.PullPolicy)
		default:
			pw.write(level1, "<unknown>\n")
		}
	}
}

func describeProjected(pw *prefixWriter, p *v1.ProjectedVolumeSource) {
	pw.write(level2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
	for _, s := range p.Sources {
		switch {
		case s.Secret != nil:
			pw.write(level2, "SecretName:\t%s\n", s.Secret.Name)
			pw.write(level2, "Optional:\t%t\n", s.Secret.Optional != nil && *s.Secret.Optional)
		case s.DownwardAPI != nil:
			pw.write(level2, "DownwardAPI:\ttrue\n")
		case s.ConfigMap != nil:
			pw.write(level2, "ConfigMapName:\t%s\n", s.ConfigMap.Name)
			pw.write(level2, "Optional:\t%t\n", s.ConfigMap.Optional != nil && *s.ConfigMap.Optional)
		case s.ServiceAccountToken != nil:
			exp := "<unset>"
			if s.ServiceAccountToken.ExpirationSeconds != nil {
				exp = fmt.Sprint(*s.ServiceAccountToken.ExpirationSeconds)
			}
			pw.write(level2, "TokenExpirationSeconds:\t%s\n", exp)
		}
	}
}
