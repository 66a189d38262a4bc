package vcenter_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// soapCounter is a reverse proxy in front of vcsim that counts SOAP calls
// by method, and vAPI (REST) calls by HTTP method, path and action, with
// object ids in paths replaced by "*". A vAPI call named in fail is
// answered once with that HTTP status instead of reaching vcsim.
type soapCounter struct {
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]int
}

// failOnce makes the next vAPI call of that name fail with status.
func (c *soapCounter) failOnce(call string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[call] = status
}

var soapMethod = regexp.MustCompile(`<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)`)

func (s *sim) countingProxy(t *testing.T) (*url.URL, *soapCounter) {
	t.Helper()
	c := &soapCounter{calls: map[string]int{}, fail: map[string]int{}}
	target := *s.URL
	target.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(&target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		var status int
		switch m := soapMethod.FindSubmatch(body); {
		case strings.HasPrefix(r.URL.Path, "/rest/"):
			name := restCall(r)
			c.calls[name]++
			status = c.fail[name]
			delete(c.fail, name)
		case m != nil:
			c.calls[string(m[1])]++
		}
		c.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u := *s.URL
	u.Host = srv.Listener.Addr().String()
	return &u, c
}

var restID = regexp.MustCompile(`/id:[^/]+`)

// restCall names a vAPI call, e.g. "GET /rest/com/vmware/cis/tagging/tag/id:*".
func restCall(r *http.Request) string {
	name := r.Method + " " + restID.ReplaceAllString(r.URL.Path, "/id:*")
	if a := r.URL.Query().Get("~action"); a != "" {
		name += "?~action=" + a
	}
	return name
}

func (c *soapCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

// TestOneRetrievalPerPoll checks that a poll costs the same calls whatever
// the number of VMs: one RetrievePropertiesEx for the inventory, plus the
// session check and the container view's creation and removal.
func TestOneRetrievalPerPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t)
	u, counter := s.countingProxy(t)
	s.URL = u
	src := newSource(t, s)
	if _, err := src.Collect(ctx, "2026-01-01T00:00:00Z", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	counter.take() // the first poll logs in

	poll := func(end time.Time) map[string]int {
		t.Helper()
		if _, err := src.Collect(ctx, "2026-01-01T00:00:00Z", end); err != nil {
			t.Fatal(err)
		}
		return counter.take()
	}
	few := poll(t0.Add(time.Hour))
	for i := range 4 {
		s.createVM(t, fmt.Sprintf("extra-%d", i), "/DC0/host/DC0_H0/Resources")
	}
	counter.take()
	many := poll(t0.Add(time.Hour))
	want := map[string]int{"CreateContainerView": 1, "RetrievePropertiesEx": 2, "DestroyView": 1}
	for name, calls := range map[string]map[string]int{"4 VMs": few, "8 VMs": many} {
		if len(calls) != len(want) {
			t.Errorf("%s: calls %v, want %v", name, calls, want)
			continue
		}
		for m, n := range want {
			if calls[m] != n {
				t.Errorf("%s: calls %v, want %v", name, calls, want)
				break
			}
		}
	}
}
