package restapi_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/collector/restapi"
)

// TestEndpointTLS: ca_file makes a private CA trusted, insecure skips the
// check, and neither refuses the unknown certificate.
func TestEndpointTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(e restapi.Endpoint) error {
		hc, err := e.HTTPClient()
		if err != nil {
			return err
		}
		c, err := restapi.NewClient(e.Base(), hc, func(context.Context, *restapi.Client) (string, error) { return "t", nil })
		if err != nil {
			return err
		}
		return c.Get(context.Background(), "/", nil, &struct{}{})
	}
	if err := get(restapi.Endpoint{URL: srv.URL, CAFile: ca}); err != nil {
		t.Errorf("with ca_file: %v", err)
	}
	if err := get(restapi.Endpoint{URL: srv.URL, Insecure: true}); err != nil {
		t.Errorf("insecure: %v", err)
	}
	if err := get(restapi.Endpoint{URL: srv.URL}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("system roots: err %v, want a certificate error", err)
	}
	notPEM := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (restapi.Endpoint{URL: srv.URL, CAFile: notPEM}).HTTPClient(); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad ca_file: err %v", err)
	}
}
