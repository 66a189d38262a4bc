package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestConsoleFlag: the console is served at /console/ by default, with the
// API beside it, and --console=false removes it without touching the API.
func TestConsoleFlag(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, on := range []bool{true, false} {
		cfg := config.Default()
		cfg.DatabaseURL = pgtest.NewDatabase(t)
		cfg.Auth, cfg.Console = false, on
		s := start(t, cfg)
		code, body := get(t, s.http+"/console/bills/acme")
		switch {
		case on && (code != http.StatusOK || !strings.Contains(body, `<div id="root">`)):
			t.Errorf("--console: GET /console/bills/acme = %d %.80q, want the app's HTML shell", code, body)
		case !on && code != http.StatusNotFound:
			t.Errorf("--console=false: GET /console/bills/acme = %d, want 404", code)
		}
		if code, _ := get(t, s.http+"/console"); on && code != http.StatusMovedPermanently {
			t.Errorf("--console: GET /console = %d, want 301 to /console/", code)
		}
		if code, _ := get(t, s.http+"/v1/products"); code != http.StatusOK {
			t.Errorf("console=%v: GET /v1/products = %d, want 200", on, code)
		}
	}
}
