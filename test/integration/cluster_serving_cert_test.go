package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certificates "k8s.io/api/certificates/v1"
	v1 "k8s.io/api/core/v1"
)

// TestClusterServingCertificate: with --rotate-server-certificates the
// kubelet API's certificate comes from the CSR API: minilet asks the
// kubelet-serving signer for system:node:<name>; until an administrator
// approves, the API server cannot reach the node's API; once approved and
// signed (by the controller-manager, with the cluster's CA), the API
// server, which verifies kubelets' certificates with that CA, reaches it,
// and the certificate is kept where the kubelet keeps it.
func TestClusterServingCertificate(t *testing.T) {
	p := needPlane(t)
	name := takeNodeName(t)
	d := startClusterDaemon(t, p, name, "--rotate-server-certificates")
	n := waitNode(t, p, name, 60*time.Second, "registered and Ready", nodeReadyIs(v1.ConditionTrue))
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port

	csr := waitAPIObject(t, p, "the node's serving CSR", 60*time.Second, func(l *certificates.CertificateSigningRequestList) error {
		for _, c := range l.Items {
			if c.Spec.Username == "system:node:"+name && c.Spec.SignerName == certificates.KubeletServingSignerName {
				return nil
			}
		}
		return fmt.Errorf("%d CSRs, none of the node", len(l.Items))
	}, "get", "csr")
	var csrName string
	for _, c := range csr.Items {
		if c.Spec.Username == "system:node:"+name && c.Spec.SignerName == certificates.KubeletServingSignerName {
			csrName = c.Name
		}
	}
	t.Cleanup(func() { _, _ = p.Kubectl(t.Context(), "delete", "csr", csrName) })
	healthz := "/api/v1/nodes/" + name + "/proxy/healthz"
	if out, err := p.Kubectl(t.Context(), "get", "--raw", healthz); err == nil {
		t.Fatalf("the node's API answered before its certificate was approved: %q", out)
	}

	kubectl(t, p, "certificate", "approve", csrName)
	d.eventually(60*time.Second, "the API server reaching the node's API", func() error {
		out, err := p.Kubectl(t.Context(), "get", "--raw", healthz)
		if err != nil || out != "ok" {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	// What is served: signed by the cluster's CA, for the node.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(mustRead(t, p.CAFile())))
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("the served certificate does not verify with the cluster's CA: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if leaf.Subject.CommonName != "system:node:"+name || !strings.Contains(strings.Join(leaf.Subject.Organization, ","), "system:nodes") {
		t.Errorf("served certificate of %v", leaf.Subject)
	}
	if _, err := os.Stat(filepath.Join(d.RootDir, "pki", "kubelet-server-current.pem")); err != nil {
		t.Errorf("the certificate is not kept: %v", err)
	}
}
