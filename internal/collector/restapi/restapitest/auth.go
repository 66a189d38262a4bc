// Package restapitest helps the REST API sources' tests: a token issuer
// for fake platform servers.
package restapitest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Tokens issues bearer tokens for a fake API and checks them, so that a
// test can expire every token and see the client log in again.
type Tokens struct {
	mu     sync.Mutex
	valid  map[string]bool
	n      int
	logins int
}

// NewTokens returns an issuer with no token yet.
func NewTokens() *Tokens { return &Tokens{valid: map[string]bool{}} }

// Issue returns a new valid token and counts a login.
func (t *Tokens) Issue() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	t.logins++
	tok := fmt.Sprintf("token-%d", t.n)
	t.valid[tok] = true
	return tok
}

// Add makes a fixed credential (an API key) valid.
func (t *Tokens) Add(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.valid[tok] = true
}

// ExpireAll invalidates every issued token, as a platform does when a
// session times out between polls.
func (t *Tokens) ExpireAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.valid {
		if strings.HasPrefix(k, "token-") {
			delete(t.valid, k)
		}
	}
}

// Logins returns how many tokens were issued.
func (t *Tokens) Logins() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.logins
}

// Allow checks the request's credential — "Authorization: Bearer <token>",
// or the header named (e.g. apiKey) when header is not empty — and
// answers 401 when it is not valid.
func (t *Tokens) Allow(w http.ResponseWriter, r *http.Request, header string) bool {
	var tok string
	if header != "" && r.Header.Get(header) != "" {
		tok = r.Header.Get(header)
	} else {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	t.mu.Lock()
	ok := tok != "" && t.valid[tok]
	t.mu.Unlock()
	if !ok {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
	}
	return ok
}
