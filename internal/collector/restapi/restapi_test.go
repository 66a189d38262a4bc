package restapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// TestCustomersResolve checks the order of the rules: ignore, map by id,
// map by name, pattern on the name, then use.
func TestCustomersResolve(t *testing.T) {
	c := restapi.Customers{
		Ignore:  []string{"Provider", "id-0"},
		Map:     map[string]string{"id-1": "acme", "Globex Inc": "globex"},
		Pattern: `^cust-([a-z]+)(?:-(\d+))?$`, Customer: "$1$2",
		Use: "id",
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, name, want string
		ignored        bool
	}{
		{"id-0", "Anything", "", true},
		{"id-9", "Provider", "", true},
		{"id-1", "Provider-ish", "acme", false},
		{"id-2", "Globex Inc", "globex", false},
		{"id-3", "cust-initech-2", "initech2", false},
		{"id-4", "cust-hooli", "hooli", false},
		{"id-5", "Someone", "id-5", false},
	} {
		got, ignored := c.Resolve(tc.id, tc.name)
		if got != tc.want || ignored != tc.ignored {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q, %v", tc.id, tc.name, got, ignored, tc.want, tc.ignored)
		}
	}
	none := restapi.Customers{Map: map[string]string{"a": "b"}}
	if got, _ := none.Resolve("x", "y"); got != "" {
		t.Errorf("no rule matches: got %q", got)
	}
}

// TestNextWindow: the first poll only sets the cursor, an empty window
// keeps it, and a window ends at now in whole seconds.
func TestNextWindow(t *testing.T) {
	now := time.Date(2026, 1, 1, 1, 0, 0, 900_000_000, time.UTC)
	if _, next, ok, err := restapi.NextWindow("", now); ok || err != nil || next != "2026-01-01T01:00:00Z" {
		t.Errorf("first: %q %v %v", next, ok, err)
	}
	if _, next, ok, err := restapi.NextWindow("2026-01-01T01:00:00Z", now); ok || err != nil || next != "2026-01-01T01:00:00Z" {
		t.Errorf("empty: %q %v %v", next, ok, err)
	}
	w, next, ok, err := restapi.NextWindow("2026-01-01T00:00:00Z", now)
	if !ok || err != nil || next != "2026-01-01T01:00:00Z" || w.Bucket() != "1767225600" || w.End.Sub(w.Start) != time.Hour {
		t.Errorf("window: %+v %q %v %v", w, next, ok, err)
	}
	if _, _, _, err := restapi.NextWindow("yesterday", now); err == nil {
		t.Error("a bad cursor gave no error")
	}
}

// TestClientRetries: 503 is retried up to the attempts, 404 is not, a 401
// logs in again exactly once.
func TestClientRetries(t *testing.T) {
	var calls, logins atomic.Int32
	status := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	login := func(context.Context, *restapi.Client) (string, error) {
		if logins.Add(1) == 1 {
			return "stale", nil // the first token is already refused: one re-login
		}
		return "tok", nil
	}
	c, err := restapi.NewClient(srv.URL, srv.Client(), login, restapi.WithRetry(3, collector.Backoff{Initial: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out struct{ OK bool }
	status.Store(200)
	if err := c.Get(ctx, "/x", nil, &out); err != nil || !out.OK || logins.Load() != 2 || calls.Load() != 2 {
		t.Errorf("401 then ok: err %v, out %v, logins %d, calls %d", err, out, logins.Load(), calls.Load())
	}
	calls.Store(0)
	status.Store(http.StatusServiceUnavailable)
	if err := c.Get(ctx, "/x", nil, &out); !restapi.IsStatus(err, 503) || calls.Load() != 3 {
		t.Errorf("503: err %v after %d calls, want 3", err, calls.Load())
	}
	calls.Store(0)
	status.Store(http.StatusNotFound)
	if err := c.Get(ctx, "/x", nil, &out); !restapi.IsStatus(err, 404) || calls.Load() != 1 || !strings.Contains(err.Error(), "GET /x: HTTP 404") {
		t.Errorf("404: err %v after %d calls, want 1", err, calls.Load())
	}
}

func TestEndpointValidate(t *testing.T) {
	for _, tc := range []struct {
		e    restapi.Endpoint
		want string
	}{
		{restapi.Endpoint{}, "url is required"},
		{restapi.Endpoint{URL: "https://u:p@x"}, "not in the url"},
		{restapi.Endpoint{URL: "https://x?a=1"}, "no query"},
		{restapi.Endpoint{URL: "https://x", Insecure: true, CAFile: "/ca.pem"}, "exclude each other"},
		{restapi.Endpoint{URL: "https://x", RequestTimeout: -1}, "request_timeout"},
	} {
		if err := tc.e.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.e, err, tc.want)
		}
	}
	if err := (restapi.Endpoint{URL: "https://vspc.example.net:1280/"}).Validate(); err != nil {
		t.Errorf("valid endpoint: %v", err)
	}
}
