package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate signed by the CA, as PEM and as a tls.Certificate.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, pair
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTLSAndClientCertificates serves gRPC and REST over TLS with
// --client-ca: a client that does not trust the server's CA fails, one
// that does succeeds, and a client certificate of the client CA
// authenticates as a collector.
func TestTLSAndClientCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serverCA, clientCA, strangerCA := newCA(t, "server CA"), newCA(t, "collector CA"), newCA(t, "stranger CA")
	certPEM, keyPEM, _ := serverCA.issue(t, "billingd", x509.ExtKeyUsageServerAuth)
	_, _, collectorCert := clientCA.issue(t, "vc01-collector", x509.ExtKeyUsageClientAuth)
	_, _, strangerCert := strangerCA.issue(t, "mallory", x509.ExtKeyUsageClientAuth)

	cfg := config.Default()
	cfg.BootstrapAdminKey = bootstrapSecret
	cfg.TLSCert = writeFile(t, dir, "server.pem", certPEM)
	cfg.TLSKey = writeFile(t, dir, "server.key", keyPEM)
	cfg.ClientCA = writeFile(t, dir, "clients.pem", clientCA.pem)
	a := launch(t, cfg)

	call := func(tc *tls.Config, secret string) error {
		creds := insecure.NewCredentials()
		if tc != nil {
			creds = credentials.NewTLS(tc)
		}
		opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
		if secret != "" {
			opts = append(opts, grpc.WithPerRPCCredentials(bearerCreds(secret)))
		}
		conn, err := grpc.NewClient(a.GRPCAddr(), opts...)
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = billingv1.NewCatalogServiceClient(conn).ListMetrics(ctx, &billingv1.ListMetricsRequest{})
		return err
	}
	trusting := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: serverCA.pool, Certificates: certs, MinVersion: tls.VersionTLS12}
	}

	if err := call(&tls.Config{MinVersion: tls.VersionTLS12}, bootstrapSecret); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("gRPC client without the CA: %v, want a certificate error", err)
	}
	if err := call(nil, bootstrapSecret); err == nil {
		t.Error("a plaintext gRPC client reached the TLS port")
	}
	if err := call(trusting(), bootstrapSecret); err != nil {
		t.Errorf("gRPC client with the CA and the admin key: %v", err)
	}
	if err := call(trusting(), ""); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC client with the CA and no key: %v, want Unauthenticated", err)
	}
	// A collector certificate authenticates as a collector: it may ingest,
	// not read the catalog.
	if err := call(trusting(collectorCert), ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("collector certificate reading the catalog: %v, want PermissionDenied", err)
	}
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(trusting(collectorCert))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := billingv1.NewUsageServiceClient(conn).BatchIngestUsage(t.Context(), &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
		IdempotencyKey: "cert-1", CustomerId: "nobody", MetricKey: "vm.vcpu", Quantity: "1", Time: at(2026, 10, 1),
	}}}); err != nil {
		t.Errorf("collector certificate ingesting: %v", err)
	}
	// A certificate of another CA is not even offered by Go's client (the
	// server names its CA); forced on the server, it fails the handshake.
	forced := trusting()
	forced.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &strangerCert, nil }
	if err := call(forced, bootstrapSecret); status.Code(err) != codes.Unavailable {
		t.Errorf("a client certificate of an unknown CA: %v, want the handshake to fail", err)
	}

	// REST over HTTPS.
	get := func(c *http.Client, secret string) (int, error) {
		req, _ := http.NewRequest("GET", "https://"+a.HTTPAddr()+"/v1/products", nil)
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if _, err := get(tlsClient(&tls.Config{MinVersion: tls.VersionTLS12}), bootstrapSecret); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("HTTPS client without the CA: %v, want a certificate error", err)
	}
	if code, err := get(tlsClient(trusting()), bootstrapSecret); err != nil || code != http.StatusOK {
		t.Errorf("HTTPS client with the CA = %d, %v", code, err)
	}
	if code, err := get(tlsClient(trusting()), ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("HTTPS client without a key = %d, %v, want 401", code, err)
	}
	// Go's server answers plain HTTP on a TLS port with a 400, never a page.
	if resp, err := http.Get("http://" + a.HTTPAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
}

// TestRateLimitPerKey: a key gets its burst, then ResourceExhausted (429 on
// REST, whose calls share the key's bucket); another key is unaffected.
func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.BootstrapAdminKey = bootstrapSecret
	cfg.RateLimit, cfg.RateBurst = 0.01, 3 // no refill within the test
	a := launch(t, cfg)
	s := &secured{
		grpcAddr: a.GRPCAddr(), httpBase: "http://" + a.HTTPAddr(), creds: insecure.NewCredentials(), http: http.DefaultClient,
		secrets: map[string]string{admin: bootstrapSecret}, conns: map[string]*grpc.ClientConn{},
	}
	ctx := t.Context()
	keys := billingv1.NewAccessServiceClient(s.conn(t, admin))
	for _, who := range []string{reader, readerA} { // the admin's calls 1 and 2
		res, err := keys.CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{DisplayName: who, Role: billingv1.Role_ROLE_READER}})
		if err != nil {
			t.Fatal(err)
		}
		s.secrets[who] = res.GetSecret()
	}
	cat := billingv1.NewCatalogServiceClient(s.conn(t, reader))
	for i := range 3 {
		if _, err := cat.ListMetrics(ctx, &billingv1.ListMetricsRequest{}); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	_, err := cat.ListMetrics(ctx, &billingv1.ListMetricsRequest{})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("call beyond the burst: %v, want ResourceExhausted naming the rate limit", err)
	}
	if code, body := s.rest(t, reader, "GET", "/v1/products", nil); code != http.StatusTooManyRequests {
		t.Errorf("REST beyond the burst = %d %v, want 429", code, body)
	}
	if _, err := billingv1.NewCatalogServiceClient(s.conn(t, readerA)).ListMetrics(ctx, &billingv1.ListMetricsRequest{}); err != nil {
		t.Errorf("another key: %v", err)
	}
	if _, err := keys.ListApiKeys(ctx, &billingv1.ListApiKeysRequest{}); err != nil {
		t.Errorf("the admin's third call: %v", err)
	}
}

// TestBootstrapKeyIsPrintedOnce: without --bootstrap-admin-key the first
// start makes an admin key and prints its secret; the next start does not.
func TestBootstrapKeyIsPrintedOnce(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	var first bytes.Buffer
	a := launch(t, cfg, app.WithStderr(&first))
	secret := regexp.MustCompile(`bk_[a-z2-7]{52}`).FindString(first.String())
	if secret == "" || !strings.Contains(first.String(), "BOOTSTRAP ADMIN KEY") {
		t.Fatalf("first start printed %q, want a marked admin key", first.String())
	}
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearerCreds(secret)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keys, err := billingv1.NewAccessServiceClient(conn).ListApiKeys(t.Context(), &billingv1.ListApiKeysRequest{})
	if err != nil || len(keys.GetApiKeys()) != 1 || keys.GetApiKeys()[0].GetRole() != billingv1.Role_ROLE_ADMIN {
		t.Fatalf("ListApiKeys with the printed key = %v, %v", keys, err)
	}
	var second bytes.Buffer
	launch(t, cfg, app.WithStderr(&second))
	if second.Len() != 0 {
		t.Errorf("second start printed %q, want nothing", second.String())
	}
}

// TestRESTBodyLimit: a body over --max-body-bytes is refused with 413 when
// its length is declared, else with 400 naming the limit.
func TestRESTBodyLimit(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Auth = false
	cfg.MaxBodyBytes = 1024
	a := launch(t, cfg)
	big := `{"id": "p", "displayName": "` + strings.Repeat("x", 2048) + `"}`
	resp, err := http.Post("http://"+a.HTTPAddr()+"/v1/products", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "--max-body-bytes") {
		t.Errorf("declared oversized body = %d %s, want 413 naming --max-body-bytes", resp.StatusCode, raw)
	}
	// Without Content-Length (chunked), the read stops at the limit.
	req, _ := http.NewRequest("POST", "http://"+a.HTTPAddr()+"/v1/products", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "--max-body-bytes") {
		t.Errorf("chunked oversized body = %d %s, want 400 naming --max-body-bytes", resp.StatusCode, raw)
	}
}
