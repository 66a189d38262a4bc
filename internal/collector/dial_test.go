package collector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// TestDialWithClientCertificate: billingd started with --client-ca takes a
// collector's certificate instead of an API key; without either the call
// is Unauthenticated.
func TestDialWithClientCertificate(t *testing.T) {
	t.Parallel()
	b := collectortest.StartBillingd(t)
	ingest := func(reach collector.BillingdConfig) (*billingv1.BatchIngestUsageResponse, error) {
		conn, err := reach.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return billingv1.NewUsageServiceClient(conn).BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{
			IdempotencyKey: "cert-1", CustomerId: "nobody", MetricKey: "vm.vcpu", Quantity: "1", Time: timestamppb.Now(),
		}}})
	}
	if _, err := ingest(b.Reach); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token, no certificate: %v, want Unauthenticated", err)
	}
	withCert := b.Reach
	withCert.CertFile, withCert.KeyFile = b.ClientCertificate(t, "collector-01")
	resp, err := ingest(withCert)
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	// Authenticated and authorised: the record reaches validation, which
	// refuses the customer this empty billingd does not know.
	if len(resp.GetRejected()) != 1 || resp.GetRejected()[0].GetField() != "customer_id" {
		t.Errorf("answer %v, want the record rejected on customer_id", resp)
	}
}

func TestClientCertificateConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ billingd, want string }{
		{"{address: 'b:9090', cert_file: c.pem}", "cert_file and key_file go together"},
		{"{address: 'b:9090', plaintext: true, cert_file: c.pem, key_file: k.pem}", "needs TLS"},
	} {
		_, err := collector.Parse([]byte("billingd: " + c.billingd + "\nstate_dir: /tmp/x\nsources: [{name: a, interval: 1m, static: {}}]\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.billingd, err, c.want)
		}
	}
	reach := collector.BillingdConfig{Address: "127.0.0.1:1", CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}
	if _, err := reach.Dial(); err == nil || !strings.Contains(err.Error(), "client certificate") {
		t.Errorf("Dial with missing certificate files: %v", err)
	}
}
