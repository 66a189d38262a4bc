package rubrik_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/restapi/restapitest"
)

// rsc is a fake Rubrik Security Cloud: the service-account token endpoint
// and a GraphQL endpoint answering snappableConnection with the three
// recorded pages under testdata/, chained by their endCursor.
type rsc struct {
	*httptest.Server
	tokens   *restapitest.Tokens
	requests collectortest.Requests // what was asked, in order

	mu       sync.Mutex
	pages    map[string]map[string]any // after ("" for the first) → the answer
	errorsAt int                       // answer request number errorsAt with a GraphQL error
	expireAt int                       // expire every token when request number expireAt arrives
}

const (
	clientID     = "client|c9bba9a9-1234-1234-b7c6-123440b4cf64"
	clientSecret = "s3cret-client-secret"
	cursor2      = "YXJyYXljb25uZWN0aW9uOjI="
	cursor3      = "YXJyYXljb25uZWN0aW9uOjU="
)

func newRSC(t *testing.T) *rsc {
	t.Helper()
	r := &rsc{tokens: restapitest.NewTokens(), pages: map[string]map[string]any{}}
	for after, file := range map[string]string{"": "snappables_page1.json", cursor2: "snappables_page2.json", cursor3: "snappables_page3.json"} {
		var doc map[string]any
		collectortest.ReadJSON(t, filepath.Join("testdata", file), &doc)
		r.pages[after] = doc
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *rsc) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch req.URL.Path {
	case "/api/client_token":
		r.requests.Add("POST /api/client_token")
		var body struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if req.Method != http.MethodPost || json.NewDecoder(req.Body).Decode(&body) != nil {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		if body.ClientID != clientID || body.ClientSecret != clientSecret {
			http.Error(w, `{"message":"invalid client credentials"}`, http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprintf(w, `{"client_id":%q,"access_token":%q,"expires_in":43200}`, clientID, r.tokens.Issue())
	case "/api/graphql":
		var body struct {
			Query     string `json:"query"`
			Variables struct {
				First  int     `json:"first"`
				After  *string `json:"after"`
				Filter struct {
					ObjectType []string `json:"objectType"`
				} `json:"filter"`
			} `json:"variables"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil || req.Method != http.MethodPost {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		after := ""
		if body.Variables.After != nil {
			after = *body.Variables.After
		}
		n := r.requests.Add("POST /api/graphql " + after)
		r.mu.Lock()
		if n == r.expireAt {
			r.tokens.ExpireAll()
		}
		r.mu.Unlock()
		if !r.tokens.Allow(w, req, "") {
			return
		}
		if !strings.Contains(body.Query, "snappableConnection(first: $first, after: $after, filter: $filter)") || body.Variables.First < 1 ||
			!slices.Equal(body.Variables.Filter.ObjectType, []string{"VmwareVirtualMachine", "HypervVirtualMachine", "NutanixVirtualMachine"}) {
			_, _ = fmt.Fprint(w, `{"data":null,"errors":[{"message":"unexpected query or variables"}]}`)
			return
		}
		r.mu.Lock()
		page, ok := r.pages[after]
		failing := n == r.errorsAt
		b, _ := json.Marshal(page)
		r.mu.Unlock()
		switch {
		case failing:
			_, _ = fmt.Fprint(w, `{"data":null,"errors":[{"message":"INTERNAL: timed out reading workloads","extensions":{"code":500}}]}`)
		case !ok:
			_, _ = fmt.Fprint(w, `{"data":null,"errors":[{"message":"invalid cursor"}]}`)
		default:
			_, _ = w.Write(b)
		}
	default:
		http.NotFound(w, req)
	}
}

// nodes changes the nodes of a page for the next polls.
func (r *rsc) nodes(after string, f func([]any) []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	conn := r.pages[after]["data"].(map[string]any)["snappableConnection"].(map[string]any)
	conn["nodes"] = f(conn["nodes"].([]any))
}
