package manifest

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	"gopkg.in/inf.v0"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateContainer checks one app or init container (its name is checked
// by the caller, which sees both lists).
func validateContainer(c *v1.Container, p *field.Path, volumes map[string]bool, isInit bool) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Image == "":
		errs = append(errs, field.Required(p.Child("image"), "every container needs an image"))
	case strings.TrimSpace(c.Image) != c.Image:
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		switch port.Protocol {
		case v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol,
				[]v1.Protocol{v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP}))
		}
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if portNames[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		if port.HostIP != "" {
			if _, err := netip.ParseAddr(port.HostIP); err != nil {
				errs = append(errs, field.Invalid(pp.Child("hostIP"), port.HostIP, "must be an IP address"))
			}
		}
	}
	errs = append(errs, validateEnv(c, p)...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateMounts(c, p, volumes)...)

	sidecar := isInit && c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways
	if c.RestartPolicy != nil && !sidecar {
		if isInit {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []v1.ContainerRestartPolicy{v1.ContainerRestartPolicyAlways}))
		} else {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "only init containers may set restartPolicy (Always makes a sidecar); use spec.restartPolicy"))
		}
	}
	if len(c.RestartPolicyRules) > 0 {
		errs = append(errs, field.Forbidden(p.Child("restartPolicyRules"), "not supported by minilet"))
	}
	probes := []struct {
		name     string
		probe    *v1.Probe
		oneShot  bool // successThreshold must be 1
		initOkay bool // allowed on a sidecar init container
	}{
		{"livenessProbe", c.LivenessProbe, true, true},
		{"readinessProbe", c.ReadinessProbe, false, true},
		{"startupProbe", c.StartupProbe, true, true},
	}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "init containers run to completion and cannot have probes (unless restartPolicy: Always makes them sidecars)"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, p.Child(pr.name), c, pr.oneShot)...)
	}
	if l := c.Lifecycle; l != nil && l.StopSignal != nil {
		errs = append(errs, field.Forbidden(p.Child("lifecycle", "stopSignal"), "an alpha field (feature gate ContainerStopSignals) minilet does not support; set STOPSIGNAL in the image"))
	}
	if c.Stdin && !c.TTY {
		errs = append(errs, field.Forbidden(p.Child("stdin"), "minilet gives a container stdin only with a terminal (tty: true): the shim carries input to a container whose output goes to a log driver only through its console; set tty: true, or use `minilet exec -i` to give a command stdin"))
	}
	if pr := c.ReadinessProbe; pr != nil && pr.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("readinessProbe", "terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	for i, r := range c.ResizePolicy {
		rp := p.Child("resizePolicy").Index(i)
		if r.ResourceName != v1.ResourceCPU && r.ResourceName != v1.ResourceMemory {
			errs = append(errs, field.NotSupported(rp.Child("resourceName"), r.ResourceName, []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}))
		}
		if r.RestartPolicy != v1.NotRequired && r.RestartPolicy != v1.RestartContainer {
			errs = append(errs, field.NotSupported(rp.Child("restartPolicy"), r.RestartPolicy, []v1.ResourceResizeRestartPolicy{v1.NotRequired, v1.RestartContainer}))
		}
	}
	if l := c.Lifecycle; l != nil {
		lp := p.Child("lifecycle")
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(lp, "init containers cannot have lifecycle hooks (unless restartPolicy: Always makes them sidecars)"))
		} else {
			if l.PostStart != nil {
				errs = append(errs, validateLifecycleHandler(l.PostStart, lp.Child("postStart"), c)...)
			}
			if l.PreStop != nil {
				errs = append(errs, validateLifecycleHandler(l.PreStop, lp.Child("preStop"), c)...)
			}
		}
	}
	switch c.TerminationMessagePolicy {
	case v1.TerminationMessageReadFile, v1.TerminationMessageFallbackToLogsOnError:
	default:
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]v1.TerminationMessagePolicy{v1.TerminationMessageReadFile, v1.TerminationMessageFallbackToLogsOnError}))
	}
	if !path.IsAbs(c.TerminationMessagePath) {
		errs = append(errs, field.Invalid(p.Child("terminationMessagePath"), c.TerminationMessagePath, "must be an absolute path"))
	}
	switch c.ImagePullPolicy {
	case v1.PullAlways, v1.PullIfNotPresent, v1.PullNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy,
			[]v1.PullPolicy{v1.PullAlways, v1.PullIfNotPresent, v1.PullNever}))
	}
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateIDs(sp, sc.RunAsUser, sc.RunAsGroup)...)
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, field.Invalid(sp, "", "cannot set allowPrivilegeEscalation to false and privileged to true"))
		}
		errs = append(errs, validateSeccomp(sc.SeccompProfile, sp.Child("seccompProfile"))...)
		errs = append(errs, validateAppArmor(sc.AppArmorProfile, sp.Child("appArmorProfile"))...)
		if sc.WindowsOptions != nil {
			errs = append(errs, field.Forbidden(sp.Child("windowsOptions"), "windowsOptions apply to Windows nodes; minilet runs Linux pods"))
		}
	}
	return errs
}

// fieldRefPaths are the pod fields an env var can refer to.
func fieldRefPaths() []string {
	return []string{
		"metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName",
		"status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs",
	}
}

func validateEnv(c *v1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range c.EnvFrom {
		fp := p.Child("envFrom").Index(i)
		if ef.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(ef.Prefix) {
				errs = append(errs, field.Invalid(fp.Child("prefix"), ef.Prefix, msg))
			}
		}
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		case ef.ConfigMapRef != nil:
			errs = append(errs, objectName(ef.ConfigMapRef.Name, fp.Child("configMapRef", "name"), "ConfigMap")...)
		case ef.SecretRef != nil:
			errs = append(errs, objectName(ef.SecretRef.Name, fp.Child("secretRef", "name"), "Secret")...)
		default:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		}
	}
	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), "every env variable needs a name"))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(e.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
			}
		}
		vf := e.ValueFrom
		if vf == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		if e.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be set when value is not empty"))
		}
		n := 0
		if vf.FieldRef != nil {
			n++
			errs = append(errs, validateFieldRef(vf.FieldRef, vp.Child("fieldRef"))...)
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			n++
			errs = append(errs, objectName(r.Name, vp.Child("configMapKeyRef", "name"), "ConfigMap")...)
			errs = append(errs, requiredKey(r.Key, vp.Child("configMapKeyRef", "key"))...)
		}
		if r := vf.SecretKeyRef; r != nil {
			n++
			errs = append(errs, objectName(r.Name, vp.Child("secretKeyRef", "name"), "Secret")...)
			errs = append(errs, requiredKey(r.Key, vp.Child("secretKeyRef", "key"))...)
		}
		if r := vf.ResourceFieldRef; r != nil {
			n++
			errs = append(errs, validateResourceRef(r, vp.Child("resourceFieldRef"))...)
			if r.ContainerName != "" && r.ContainerName != c.Name {
				errs = append(errs, field.Invalid(vp.Child("resourceFieldRef", "containerName"), r.ContainerName, "an env variable may only show its own container's resources: leave containerName empty or name this container"))
			}
		}
		if vf.FileKeyRef != nil {
			n++
			errs = append(errs, field.Forbidden(vp.Child("fileKeyRef"), "not supported by minilet yet (an alpha field); use a configMapKeyRef"))
		}
		switch {
		case n == 0:
			errs = append(errs, field.Required(vp, "must set one of fieldRef, configMapKeyRef, secretKeyRef, resourceFieldRef"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not set more than one source"))
		}
	}
	return errs
}

// objectName checks the name of a ConfigMap or Secret an env var refers to.
func objectName(name string, p *field.Path, kind string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "name the "+kind)}
	}
	return dnsErrors(p, name, validation.IsDNS1123Subdomain)
}

func requiredKey(key string, p *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(p, "name the key")}
	}
	return keyErrors(p, key)
}

func validateFieldRef(f *v1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.APIVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), f.APIVersion, []string{"v1"}))
	}
	fp := f.FieldPath
	for _, ok := range fieldRefPaths() {
		if fp == ok {
			return errs
		}
	}
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		rest, found := strings.CutPrefix(fp, prefix+"['")
		if !found {
			continue
		}
		key, found := strings.CutSuffix(rest, "']")
		if !found {
			break
		}
		if prefix == "metadata.annotations" {
			key = strings.ToLower(key)
		}
		for _, msg := range validation.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(p.Child("fieldPath"), fp, msg))
		}
		return errs
	}
	return append(errs, field.NotSupported(p.Child("fieldPath"), fp,
		append(fieldRefPaths(), "metadata.labels['<key>']", "metadata.annotations['<key>']")))
}

// validateResources checks resource names and quantities, and that no
// request exceeds its limit.
func validateResources(r *v1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, list := range []struct {
		name string
		l    v1.ResourceList
	}{{"limits", r.Limits}, {"requests", r.Requests}} {
		for _, name := range sortedMapKeys(list.l) {
			q := list.l[name]
			rp := p.Child(list.name).Key(string(name))
			errs = append(errs, validateResourceName(name, rp)...)
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(rp, q.String(), "must not be negative"))
			}
		}
	}
	for _, name := range sortedMapKeys(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to the %s limit of %s", name, lim.String())))
		}
	}
	if len(r.Claims) > 0 {
		errs = append(errs, field.Forbidden(p.Child("claims"), "dynamic resource allocation needs an API server; not supported by minilet"))
	}
	// Extended resources (domain/name outside kubernetes.io) are whole
	// devices: integers, and never overcommitted (requests = limits).
	for _, list := range []struct {
		name string
		l    v1.ResourceList
	}{{"limits", r.Limits}, {"requests", r.Requests}} {
		for _, name := range sortedMapKeys(list.l) {
			if !isExtendedResource(name) {
				continue
			}
			q := list.l[name]
			if d := q.AsDec(); new(inf.Dec).Round(d, 0, inf.RoundDown).Cmp(d) != 0 {
				errs = append(errs, field.Invalid(p.Child(list.name).Key(string(name)), q.String(), "must be an integer"))
			}
		}
	}
	for _, name := range sortedMapKeys(r.Requests) {
		if !isExtendedResource(name) {
			continue
		}
		req := r.Requests[name]
		lim, ok := r.Limits[name]
		if !ok {
			errs = append(errs, field.Required(p.Child("limits").Key(string(name)), "an extended resource needs a limit (equal to its request)"))
		} else if req.Cmp(lim) != 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

// isExtendedResource reports a domain-qualified resource outside
// kubernetes.io: a device or a count the node advertises.
func isExtendedResource(name v1.ResourceName) bool {
	n := string(name)
	return strings.Contains(n, "/") && !strings.HasPrefix(n, "kubernetes.io/") && !strings.HasPrefix(n, "requests.")
}

func validateResourceName(name v1.ResourceName, p *field.Path) field.ErrorList {
	switch n := string(name); {
	case name == v1.ResourceCPU, name == v1.ResourceMemory, name == v1.ResourceEphemeralStorage:
		return nil
	case strings.HasPrefix(n, v1.ResourceHugePagesPrefix):
		return field.ErrorList{field.Forbidden(p, "hugepages are not supported by minilet yet")}
	case strings.Contains(n, "/"):
		var errs field.ErrorList
		for _, msg := range validation.IsQualifiedName(n) {
			errs = append(errs, field.Invalid(p, n, msg))
		}
		return errs
	default:
		return field.ErrorList{field.NotSupported(p, n, []string{"cpu", "memory", "ephemeral-storage", "hugepages-<size>", "<domain>/<name>"})}
	}
}

func validateMounts(c *v1.Container, p *field.Path, volumes map[string]bool) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		case !path.IsAbs(m.MountPath):
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		case paths[path.Clean(m.MountPath)]:
			errs = append(errs, field.Duplicate(mp.Child("mountPath"), m.MountPath))
		}
		paths[path.Clean(m.MountPath)] = true
		if m.SubPath != "" {
			errs = append(errs, validateSubPath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			errs = append(errs, field.Forbidden(mp.Child("subPathExpr"), "not supported by minilet yet; use subPath"))
		}
		if mode := m.MountPropagation; mode != nil {
			switch *mode {
			case v1.MountPropagationNone, v1.MountPropagationHostToContainer:
			case v1.MountPropagationBidirectional:
				if sc := c.SecurityContext; sc == nil || sc.Privileged == nil || !*sc.Privileged {
					errs = append(errs, field.Forbidden(mp.Child("mountPropagation"), "Bidirectional is allowed only in privileged containers"))
				}
			default:
				errs = append(errs, field.NotSupported(mp.Child("mountPropagation"), *mode, []v1.MountPropagationMode{
					v1.MountPropagationNone, v1.MountPropagationHostToContainer, v1.MountPropagationBidirectional}))
			}
		}
		if rro := m.RecursiveReadOnly; rro != nil {
			switch *rro {
			case v1.RecursiveReadOnlyDisabled, v1.RecursiveReadOnlyIfPossible:
			case v1.RecursiveReadOnlyEnabled:
				if !m.ReadOnly {
					errs = append(errs, field.Forbidden(mp.Child("recursiveReadOnly"), "Enabled needs readOnly: true"))
				}
			default:
				errs = append(errs, field.NotSupported(mp.Child("recursiveReadOnly"), *rro, []v1.RecursiveReadOnlyMode{
					v1.RecursiveReadOnlyDisabled, v1.RecursiveReadOnlyIfPossible, v1.RecursiveReadOnlyEnabled}))
			}
		}
	}
	if len(c.VolumeDevices) > 0 {
		errs = append(errs, field.Forbidden(p.Child("volumeDevices"), "block devices come from PersistentVolumeClaims; not supported by minilet"))
	}
	return errs
}

func validateSubPath(sub string, p *field.Path) field.ErrorList {
	if path.IsAbs(sub) {
		return field.ErrorList{field.Invalid(p, sub, "must be a relative path")}
	}
	for _, part := range strings.Split(sub, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, sub, "must not contain '..'")}
		}
	}
	return nil
}

func validateProbe(pr *v1.Probe, p *field.Path, c *v1.Container, oneShot bool) field.ErrorList {
	var errs field.ErrorList
	h := pr.ProbeHandler
	n := 0
	if h.Exec != nil {
		n++
		errs = append(errs, validateExec(h.Exec, p.Child("exec"))...)
	}
	if h.HTTPGet != nil {
		n++
		errs = append(errs, validateHTTPGet(h.HTTPGet, p.Child("httpGet"), c)...)
	}
	if h.TCPSocket != nil {
		n++
		errs = append(errs, validatePortRef(h.TCPSocket.Port, p.Child("tcpSocket", "port"), c)...)
	}
	if h.GRPC != nil {
		n++
		for _, msg := range validation.IsValidPortNum(int(h.GRPC.Port)) {
			errs = append(errs, field.Invalid(p.Child("grpc", "port"), h.GRPC.Port, msg))
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must have a handler: one of exec, httpGet, tcpSocket, grpc"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not have more than one handler (exec, httpGet, tcpSocket, grpc)"))
	}
	if pr.InitialDelaySeconds < 0 {
		errs = append(errs, field.Invalid(p.Child("initialDelaySeconds"), pr.InitialDelaySeconds, "must be 0 or more"))
	}
	for _, v := range []struct {
		name string
		val  int32
	}{
		{"timeoutSeconds", pr.TimeoutSeconds},
		{"periodSeconds", pr.PeriodSeconds},
		{"successThreshold", pr.SuccessThreshold},
		{"failureThreshold", pr.FailureThreshold},
	} {
		if v.val < 1 {
			errs = append(errs, field.Invalid(p.Child(v.name), v.val, "must be at least 1"))
		}
	}
	if oneShot && pr.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1 for liveness and startup probes"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g < 1 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be at least 1"))
	}
	return errs
}

func validateLifecycleHandler(h *v1.LifecycleHandler, p *field.Path, c *v1.Container) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if h.Exec != nil {
		n++
		errs = append(errs, validateExec(h.Exec, p.Child("exec"))...)
	}
	if h.HTTPGet != nil {
		n++
		errs = append(errs, validateHTTPGet(h.HTTPGet, p.Child("httpGet"), c)...)
	}
	if h.TCPSocket != nil {
		n++
		errs = append(errs, validatePortRef(h.TCPSocket.Port, p.Child("tcpSocket", "port"), c)...)
	}
	if h.Sleep != nil {
		n++
		if h.Sleep.Seconds < 0 {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), h.Sleep.Seconds, "must be 0 or more"))
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must have a handler: one of exec, httpGet, tcpSocket, sleep"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not have more than one handler (exec, httpGet, tcpSocket, sleep)"))
	}
	return errs
}

func validateExec(e *v1.ExecAction, p *field.Path) field.ErrorList {
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(p.Child("command"), "exec needs a command")}
	}
	return nil
}

func validateHTTPGet(h *v1.HTTPGetAction, p *field.Path, c *v1.Container) field.ErrorList {
	errs := validatePortRef(h.Port, p.Child("port"), c)
	switch h.Scheme {
	case v1.URISchemeHTTP, v1.URISchemeHTTPS:
	default:
		errs = append(errs, field.NotSupported(p.Child("scheme"), h.Scheme, []v1.URIScheme{v1.URISchemeHTTP, v1.URISchemeHTTPS}))
	}
	for i, hd := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hd.Name) {
			errs = append(errs, field.Invalid(p.Child("httpHeaders").Index(i).Child("name"), hd.Name, msg))
		}
	}
	return errs
}

// validatePortRef checks a port given by number (1-65535) or by the name
// of one of the container's ports.
func validatePortRef(port intstr.IntOrString, p *field.Path, c *v1.Container) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(int(port.IntVal)) {
			errs = append(errs, field.Invalid(p, port.IntVal, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		errs = append(errs, field.Invalid(p, port.StrVal, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(p, port.StrVal, "no port of this container has that name")}
}
