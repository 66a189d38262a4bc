package veeam_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi/restapitest"
)

// vspc is a fake Veeam Service Provider Console (REST API v3) serving the
// fixtures under testdata/, which follow the answers' recorded shape (VSPC
// 9, API v3: collections as {meta.pagingInfo, data}). It pages a
// collection by the request's limit and offset as VSPC does, so that a
// small page_size makes the client read several pages.
type vspc struct {
	*httptest.Server
	tokens   *restapitest.Tokens
	requests collectortest.Requests // what was asked, in order; paths to answer 503

	mu       sync.Mutex
	data     map[string][]map[string]any // path → the collection's items
	expireAt int                         // expire every token when request number expireAt arrives
}

const (
	vspcUser     = "billing"
	vspcPassword = "s3cret-password"
)

var fixtures = map[string]string{
	"/api/v3/organizations/companies":                             "companies.json",
	"/api/v3/protectedWorkloads/virtualMachines":                  "virtual_machines.json",
	"/api/v3/organizations/companies/sites/backupResources/usage": "backup_resources_usage.json",
}

func newVSPC(t *testing.T) *vspc {
	t.Helper()
	v := &vspc{tokens: restapitest.NewTokens(), data: map[string][]map[string]any{}}
	for path, file := range fixtures {
		var doc struct {
			Data []map[string]any `json:"data"`
		}
		collectortest.ReadJSON(t, filepath.Join("testdata", file), &doc)
		v.data[path] = doc.Data
	}
	v.Server = httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.Close)
	return v
}

func (v *vspc) serve(w http.ResponseWriter, r *http.Request) {
	n := v.requests.Add(r.Method + " " + r.URL.Path + " " + r.URL.Query().Get("offset"))
	v.mu.Lock()
	if n == v.expireAt {
		v.tokens.ExpireAll()
	}
	v.mu.Unlock()
	failing := v.requests.Failing(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/v3/token" {
		v.token(w, r)
		return
	}
	if !v.tokens.Allow(w, r, "") {
		return
	}
	if failing {
		http.Error(w, `{"errors":[{"message":"service unavailable"}]}`, http.StatusServiceUnavailable)
		return
	}
	v.mu.Lock()
	items, ok := v.data[r.URL.Path]
	v.mu.Unlock()
	if !ok || r.Method != http.MethodGet {
		http.Error(w, `{"errors":[{"message":"not found"}]}`, http.StatusNotFound)
		return
	}
	limit, err1 := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, err2 := strconv.Atoi(r.URL.Query().Get("offset"))
	if err1 != nil || err2 != nil || limit < 1 || limit > 500 || offset < 0 {
		http.Error(w, `{"errors":[{"message":"bad limit or offset"}]}`, http.StatusBadRequest)
		return
	}
	from, to := min(offset, len(items)), min(offset+limit, len(items))
	page := items[from:to]
	_ = json.NewEncoder(w).Encode(map[string]any{
		"meta": map[string]any{"pagingInfo": map[string]int{"total": len(items), "count": len(page), "offset": offset}},
		"data": page,
	})
}

// token answers the password grant of POST /api/v3/token (OAuth 2 form).
func (v *vspc) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("grant_type") != "password" || r.PostForm.Get("username") != vspcUser || r.PostForm.Get("password") != vspcPassword {
		http.Error(w, `{"error":"invalid_grant","error_description":"Invalid credentials"}`, http.StatusUnauthorized)
		return
	}
	_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","refresh_token":"refresh-ignored","expires_in":3600,".issued":"2026-01-01T00:00:00Z"}`, v.tokens.Issue())
}

// edit changes a collection for the next polls.
func (v *vspc) edit(path string, f func([]map[string]any) []map[string]any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.data[path] = f(v.data[path])
}
