// Package testcontrolplane runs a real Kubernetes control plane for
// minilet's cluster-mode tests: etcd, kube-apiserver, kube-scheduler and
// kube-controller-manager built by hack/controlplane/build.sh, all on loopback with their own ports and
// directory. Nodes authenticate with tokens as system:node:<name> in
// system:nodes, under the Node authorizer and NodeRestriction, as kubelets
// do on a real cluster.
package testcontrolplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/minilet/minilet/internal/testdaemon"
)

// Config says where the plane's files and commands are.
type Config struct {
	// Dir holds the plane's certificates, kubeconfigs, logs and etcd's
	// data; the caller removes it.
	Dir string
	// BinDir holds kube-apiserver, kube-controller-manager,
	// kube-scheduler and kubectl.
	BinDir string
	// Nodes are the node names that get a token (system:node:<name>).
	Nodes []string
	// NodeMonitorGracePeriod is the node lifecycle controller's
	// --node-monitor-grace-period: how long a node's lease may go
	// unrenewed before it is NotReady (default 50s, as upstream).
	NodeMonitorGracePeriod time.Duration
}

// Plane is a running control plane.
type Plane struct {
	cfg Config
	// URL is the API server's address, https://127.0.0.1:<port>.
	URL string
	// CA signed the API server's certificate and the certificates below.
	CA *CA
	// AdminKubeconfig is a kubeconfig of a system:masters user.
	AdminKubeconfig string
	// KubeletClientCert and KubeletClientKey are what the API server
	// shows a node's kubelet API (for logs and exec); the user is
	// "kube-apiserver-kubelet-client".
	KubeletClientCert, KubeletClientKey string

	tokens                                  map[string]string // user → token
	etcd, apiserver, scheduler, controllers *process
	schedulerAddr, controllersAddr          string
}

// Start starts etcd, the API server, the scheduler and the
// controller-manager, and returns once the API server is ready, the
// scheduler and controller-manager are healthy and the default service
// account exists (pods need it).
func Start(ctx context.Context, cfg Config) (p *Plane, err error) {
	if cfg.NodeMonitorGracePeriod == 0 {
		cfg.NodeMonitorGracePeriod = 50 * time.Second
	}
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"} {
		if _, err := os.Stat(filepath.Join(cfg.BinDir, b)); err != nil {
			return nil, fmt.Errorf("%s is not built (hack/controlplane/build.sh): %w", b, err)
		}
	}
	// etcd 3.6 from the build script; Debian's 3.4 works until the API
	// server restarts (see hack/controlplane/build.sh).
	etcdPath := filepath.Join(cfg.BinDir, "etcd")
	etcdArgs := []string{"--unsafe-no-fsync"}
	if _, err := os.Stat(etcdPath); err != nil {
		if etcdPath, err = exec.LookPath("etcd"); err != nil {
			return nil, errors.New("etcd is not built (hack/controlplane/build.sh) nor installed")
		}
		etcdArgs = nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	p = &Plane{cfg: cfg, tokens: map[string]string{}}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	if p.CA, err = newCA(); err != nil {
		return nil, err
	}
	caPath := filepath.Join(cfg.Dir, "ca.crt")
	if err := os.WriteFile(caPath, p.CA.CertPEM, 0o644); err != nil {
		return nil, err
	}
	caKeyPath, err := p.CA.writeKey(filepath.Join(cfg.Dir, "ca.key"))
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := p.CA.Issue(cfg.Dir, "apiserver", "kube-apiserver", nil, []string{"127.0.0.1", "localhost", "kubernetes.default.svc"})
	if err != nil {
		return nil, err
	}
	if p.KubeletClientCert, p.KubeletClientKey, err = p.CA.Issue(cfg.Dir, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil); err != nil {
		return nil, err
	}
	saKey, saPub, err := writeServiceAccountKeys(cfg.Dir)
	if err != nil {
		return nil, err
	}
	tokenFile, err := p.writeTokens()
	if err != nil {
		return nil, err
	}
	ports := make([]string, 5)
	for i := range ports {
		if ports[i], err = testdaemon.FreeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	etcdClient, etcdPeer, apiAddr := ports[0], ports[1], ports[2]
	p.schedulerAddr, p.controllersAddr = ports[3], ports[4]
	p.URL = "https://" + apiAddr

	p.etcd = newProcess(cfg.Dir, "etcd", etcdPath, append([]string{
		"--name=default", "--data-dir=" + filepath.Join(cfg.Dir, "etcd"),
		"--listen-client-urls=http://" + etcdClient, "--advertise-client-urls=http://" + etcdClient,
		"--listen-peer-urls=http://" + etcdPeer, "--initial-advertise-peer-urls=http://" + etcdPeer,
		"--initial-cluster=default=http://" + etcdPeer, "--log-level=warn"}, etcdArgs...)...)
	if err := p.etcd.start(); err != nil {
		return nil, err
	}
	_, apiPort, _ := net.SplitHostPort(apiAddr)
	p.apiserver = newProcess(cfg.Dir, "kube-apiserver", filepath.Join(cfg.BinDir, "kube-apiserver"),
		"--etcd-servers=http://"+etcdClient,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+apiPort,
		"--tls-cert-file="+servingCert, "--tls-private-key-file="+servingKey,
		"--client-ca-file="+caPath,
		"--token-auth-file="+tokenFile,
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--api-audiences=https://kubernetes.default.svc",
		"--endpoint-reconciler-type=none", "--allow-privileged=true",
		"--kubelet-client-certificate="+p.KubeletClientCert, "--kubelet-client-key="+p.KubeletClientKey,
		"--kubelet-certificate-authority="+caPath,
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--profiling=false", "--v=1")
	if err := p.apiserver.start(); err != nil {
		return nil, err
	}
	if p.AdminKubeconfig, err = p.writeKubeconfig("admin"); err != nil {
		return nil, err
	}
	if err := p.waitAPIReady(ctx, 90*time.Second); err != nil {
		return nil, err
	}
	schedKC, err := p.writeKubeconfig("system:kube-scheduler")
	if err != nil {
		return nil, err
	}
	cmKC, err := p.writeKubeconfig("system:kube-controller-manager")
	if err != nil {
		return nil, err
	}
	_, schedPort, _ := net.SplitHostPort(p.schedulerAddr)
	p.scheduler = newProcess(cfg.Dir, "kube-scheduler", filepath.Join(cfg.BinDir, "kube-scheduler"),
		"--kubeconfig="+schedKC, "--authentication-kubeconfig="+schedKC, "--authorization-kubeconfig="+schedKC,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+schedPort, "--v=1")
	_, cmPort, _ := net.SplitHostPort(p.controllersAddr)
	p.controllers = newProcess(cfg.Dir, "kube-controller-manager", filepath.Join(cfg.BinDir, "kube-controller-manager"),
		"--kubeconfig="+cmKC, "--authentication-kubeconfig="+cmKC, "--authorization-kubeconfig="+cmKC,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+cmPort,
		"--use-service-account-credentials", "--service-account-private-key-file="+saKey,
		"--root-ca-file="+caPath,
		// Signs approved CSRs (kubelet serving certificates) with the CA.
		"--cluster-signing-cert-file="+caPath, "--cluster-signing-key-file="+caKeyPath,
		"--node-monitor-period=2s",
		"--node-monitor-grace-period="+cfg.NodeMonitorGracePeriod.String(), "--v=1")
	for _, proc := range []*process{p.scheduler, p.controllers} {
		if err := proc.start(); err != nil {
			return nil, err
		}
	}
	if err := p.waitControllers(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// writeTokens writes the API server's token file: an admin, the
// scheduler, the controller-manager and each node; a user without a token
// yet gets a new one.
func (p *Plane) writeTokens() (string, error) {
	type user struct{ name, groups string }
	users := []user{
		{"admin", "system:masters"},
		{"system:kube-scheduler", ""},
		{"system:kube-controller-manager", ""},
	}
	for _, n := range p.cfg.Nodes {
		users = append(users, user{"system:node:" + n, "system:nodes"})
	}
	var b strings.Builder
	for i, u := range users {
		token, ok := p.tokens[u.name]
		if !ok {
			token = fmt.Sprintf("minilet-test-token-%d-%d", i, time.Now().UnixNano())
			p.tokens[u.name] = token
		}
		fmt.Fprintf(&b, "%s,%s,uid-%d,%q\n", token, u.name, i, u.groups)
	}
	path := filepath.Join(p.cfg.Dir, "tokens.csv")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// writeKubeconfig writes a kubeconfig of user (with its token) and
// returns its path.
func (p *Plane) writeKubeconfig(user string) (string, error) {
	token, ok := p.tokens[user]
	if !ok {
		return "", fmt.Errorf("no token for %s", user)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: p.URL, CertificateAuthorityData: p.CA.CertPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: user}
	cfg.CurrentContext = "test"
	path := filepath.Join(p.cfg.Dir, "kubeconfig-"+strings.ReplaceAll(user, ":", "-"))
	return path, clientcmd.WriteToFile(*cfg, path)
}

// NodeKubeconfig writes and returns a kubeconfig of the node name, which
// must be in Config.Nodes, with its current token.
func (p *Plane) NodeKubeconfig(name string) (string, error) {
	return p.writeKubeconfig("system:node:" + name)
}

// NodeServingCert issues a serving certificate for the kubelet API of
// node name, valid for every address of this host and for the name; it
// returns the certificate's and key's paths.
func (p *Plane) NodeServingCert(name string) (cert, key string, err error) {
	hosts := []string{name, "localhost"}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			hosts = append(hosts, ipn.IP.String())
		}
	}
	return p.CA.Issue(p.cfg.Dir, "kubelet-"+name, "system:node:"+name, []string{"system:nodes"}, hosts)
}

// CAFile is the path of the CA's certificate: the client CA a kubelet
// API trusts.
func (p *Plane) CAFile() string { return filepath.Join(p.cfg.Dir, "ca.crt") }

// Client is a clientset of the admin.
func (p *Plane) Client() (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", p.AdminKubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// Kubectl runs kubectl as the admin and returns its combined output.
func (p *Plane) Kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.cfg.BinDir, "kubectl"), append([]string{"--kubeconfig=" + p.AdminKubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// KubectlPath is the kubectl binary, for a test that runs it itself.
func (p *Plane) KubectlPath() string { return filepath.Join(p.cfg.BinDir, "kubectl") }

// StopAPIServer stops the API server (etcd and the others keep
// running); StartAPIServer starts it again and waits until it is ready.
func (p *Plane) StopAPIServer() { p.apiserver.stop() }

// StartAPIServer starts the API server StopAPIServer stopped, then
// restarts the scheduler and the controller-manager: their informers
// would relist with a back-off of up to a minute or more, and a later
// test's new node would wait that long to get pods.
func (p *Plane) StartAPIServer(ctx context.Context) error {
	if err := p.apiserver.start(); err != nil {
		return err
	}
	if err := p.waitAPIReady(ctx, 90*time.Second); err != nil {
		return err
	}
	for _, proc := range []*process{p.scheduler, p.controllers} {
		proc.stop()
		if err := proc.start(); err != nil {
			return err
		}
	}
	return p.waitControllers(ctx, 60*time.Second)
}

// RevokeNodeToken gives the node name a new token and restarts the API
// server with it: the token in the node's kubeconfig is refused from then
// on (401) until NodeKubeconfig writes the new one.
func (p *Plane) RevokeNodeToken(ctx context.Context, name string) error {
	user := "system:node:" + name
	if _, ok := p.tokens[user]; !ok {
		return fmt.Errorf("no token for %s", user)
	}
	p.StopAPIServer()
	delete(p.tokens, user)
	if _, err := p.writeTokens(); err != nil {
		return err
	}
	return p.StartAPIServer(ctx)
}

// Stop stops every process of the plane (the directory stays).
func (p *Plane) Stop() {
	for _, proc := range []*process{p.controllers, p.scheduler, p.apiserver, p.etcd} {
		if proc != nil {
			proc.stop()
		}
	}
}

// Logs are the last lines of each process's log, for a failing test.
func (p *Plane) Logs() string {
	var b strings.Builder
	for _, proc := range []*process{p.etcd, p.apiserver, p.scheduler, p.controllers} {
		if proc != nil {
			fmt.Fprintf(&b, "--- %s (%s)\n%s\n", proc.name, proc.logPath, proc.tail())
		}
	}
	return b.String()
}

func (p *Plane) waitAPIReady(ctx context.Context, timeout time.Duration) error {
	client, err := p.Client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if !p.apiserver.running() {
			return fmt.Errorf("kube-apiserver exited:\n%s", p.apiserver.tail())
		}
		if !p.etcd.running() {
			return fmt.Errorf("etcd exited:\n%s", p.etcd.tail())
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		last = err
		if err := pause(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("kube-apiserver not ready after %s: %v\n%s", timeout, last, p.apiserver.tail())
}

// waitControllers waits for the scheduler's and controller-manager's
// /healthz, and for what the controllers make in the default namespace
// before a pod there can mount its service account volume: the default
// service account and the kube-root-ca.crt ConfigMap (the e2e framework
// waits for both too). Without the ConfigMap the first pods get
// FailedMount until the root CA publisher runs.
func (p *Plane) waitControllers(ctx context.Context, timeout time.Duration) error {
	client, err := p.Client()
	if err != nil {
		return err
	}
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	healthy := func(addr string) bool {
		resp, err := insecure.Get("https://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, proc := range []*process{p.scheduler, p.controllers} {
			if !proc.running() {
				return fmt.Errorf("%s exited:\n%s", proc.name, proc.tail())
			}
		}
		if healthy(p.schedulerAddr) && healthy(p.controllersAddr) {
			_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			if err == nil {
				_, err = client.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			}
			if err == nil {
				return nil
			}
			if !apierrors.IsNotFound(err) {
				return err
			}
		}
		if err := pause(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("scheduler or controller-manager not ready after %s\n%s", timeout, p.Logs())
}

// RESTConfig is the admin's client configuration.
func (p *Plane) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", p.AdminKubeconfig)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
