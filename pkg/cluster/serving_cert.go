package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"

	certificates "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/certificate"
)

// ServingCertificate is the kubelet API's serving certificate from the
// CSR API, as the kubelet's serverTLSBootstrap
// (--rotate-server-certificates): a key made here, a
// CertificateSigningRequest to the kubernetes.io/kubelet-serving signer
// for system:node:<name> with the node's names and addresses, which the
// cluster's administrator (or an approver) approves; the certificate is
// kept in dir (kubelet-server-current.pem, as the kubelet's) and renewed
// before it expires (client-go's certificate manager, the kubelet's own).
type ServingCertificate struct {
	m certificate.Manager
}

// NewServingCertificate starts getting and renewing the serving
// certificate of node, valid for hosts (IP addresses and DNS names); it
// stops when ctx ends.
func NewServingCertificate(ctx context.Context, client kubernetes.Interface, node string, hosts []string, dir string) (*ServingCertificate, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("serving certificate directory: %w", err)
	}
	store, err := certificate.NewFileStore("kubelet-server", dir, dir, "", "")
	if err != nil {
		return nil, fmt.Errorf("serving certificate store %s: %w", dir, err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	m, err := certificate.NewManager(&certificate.Config{
		Ctx:         &ctx,
		Name:        "kubelet-server",
		ClientsetFn: func(*tls.Certificate) (kubernetes.Interface, error) { return client, nil },
		GetTemplate: func() *x509.CertificateRequest { return tmpl },
		SignerName:  certificates.KubeletServingSignerName,
		GetUsages: func(key any) []certificates.KeyUsage {
			// The manager makes ECDSA keys: no key encipherment.
			return []certificates.KeyUsage{certificates.UsageDigitalSignature, certificates.UsageServerAuth}
		},
		CertificateStore: store,
	})
	if err != nil {
		return nil, fmt.Errorf("serving certificate manager: %w", err)
	}
	m.Start()
	go func() {
		<-ctx.Done()
		m.Stop()
	}()
	return &ServingCertificate{m: m}, nil
}

// Current is the certificate to serve; nil until the CSR is approved and
// signed.
func (s *ServingCertificate) Current() *tls.Certificate { return s.m.Current() }
