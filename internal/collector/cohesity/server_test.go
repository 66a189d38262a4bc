package cohesity_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi/restapitest"
)

// cluster is a fake Cohesity cluster serving the fixtures under testdata/,
// which follow the recorded shape of the answers (v1 public tenants and
// stats/tenants, v2 protected-objects search; field names as in
// cohesity/management-sdk-python and the cohesity go-sdk). stats/tenants is
// served in the two recorded pages, chained by their cookie.
type cluster struct {
	*httptest.Server
	tokens   *restapitest.Tokens
	requests collectortest.Requests // what was asked, in order; paths to answer 503

	mu   sync.Mutex
	docs map[string]any // fixture file name → decoded JSON
}

const (
	cohUser     = "billing"
	cohPassword = "s3cret-password"
	cookie2     = "Q29va2llUGFnZTI="
)

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{tokens: restapitest.NewTokens(), docs: map[string]any{}}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	for _, f := range files {
		var doc any
		collectortest.ReadJSON(t, f, &doc)
		c.docs[filepath.Base(f)] = doc
	}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *cluster) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.requests.Add(strings.TrimSpace(r.Method + " " + r.URL.Path + " " + q.Get("tenantIds") + q.Get("cookie")))
	failing := c.requests.Failing(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/irisservices/api/v1/public/accessTokens" {
		c.login(w, r)
		return
	}
	if !c.tokens.Allow(w, r, "apiKey") {
		return
	}
	if failing {
		http.Error(w, `{"errorCode":"KStatusServiceUnavailable","message":"busy"}`, http.StatusServiceUnavailable)
		return
	}
	var file string
	switch r.URL.Path {
	case "/irisservices/api/v1/public/tenants":
		file = "tenants.json"
	case "/v2/data-protect/search/protected-objects":
		if q.Get("environments") != "kVMware,kHyperV,kAcropolis" || q.Get("tenantIds") == "" {
			http.Error(w, `{"errorCode":"KStatusBadRequest","message":"environments or tenantIds"}`, http.StatusBadRequest)
			return
		}
		file = "protected_objects_" + strings.TrimSuffix(q.Get("tenantIds"), "/") + ".json"
	case "/irisservices/api/v1/public/stats/tenants":
		if q.Get("consumerType") != "kProtectionRuns" || q.Get("maxCount") == "" {
			http.Error(w, `{"errorCode":"KStatusBadRequest","message":"consumerType or maxCount"}`, http.StatusBadRequest)
			return
		}
		switch q.Get("cookie") {
		case "":
			file = "stats_tenants_page1.json"
		case cookie2:
			file = "stats_tenants_page2.json"
		default:
			http.Error(w, `{"errorCode":"KStatusBadRequest","message":"bad cookie"}`, http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, `{"errorCode":"KStatusNotFound","message":"not found"}`, http.StatusNotFound)
		return
	}
	c.mu.Lock()
	doc, ok := c.docs[file]
	if !ok {
		doc = map[string]any{"objects": []any{}}
	}
	b, err := json.Marshal(doc)
	c.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(b)
}

// login answers POST /irisservices/api/v1/public/accessTokens (201 Created).
func (c *cluster) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ Domain, Username, Password string }
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, `{"errorCode":"KStatusBadRequest"}`, http.StatusBadRequest)
		return
	}
	if body.Domain != "LOCAL" || body.Username != cohUser || body.Password != cohPassword {
		http.Error(w, `{"errorCode":"KStatusUnauthorized","message":"Invalid username or password"}`, http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"accessToken":%q,"privileges":["kAdmin"],"tokenType":"Bearer"}`, c.tokens.Issue())
}

// edit changes a fixture for the next polls.
func (c *cluster) edit(file string, f func(doc any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.docs[file])
}
