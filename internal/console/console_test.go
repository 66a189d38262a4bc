package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	files := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>shell</title>")},
		"assets/app-1.js":    {Data: []byte("console.log(1)")},
		"assets/app-1.js.gz": {Data: []byte("gzipped")},
		"robots.txt":         {Data: []byte("User-agent: *")},
	}
	h := http.StripPrefix("", handler(files))
	cases := []struct {
		method, path, gzip string
		code               int
		ctype, cache, body string
		encoding           string
	}{
		{"GET", "/console/", "", 200, "text/html; charset=utf-8", "no-cache", "shell", ""},
		{"GET", "/console/bills/acme?month=2026-10", "", 200, "text/html; charset=utf-8", "no-cache", "shell", ""},
		{"GET", "/console/index.html", "", 200, "text/html; charset=utf-8", "no-cache", "shell", ""},
		{"HEAD", "/console/catalog", "", 200, "text/html; charset=utf-8", "no-cache", "", ""},
		{"GET", "/console/assets/app-1.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1)", ""},
		{"GET", "/console/assets/app-1.js", "gzip, br", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "gzipped", "gzip"},
		{"GET", "/console/assets/gone-2.js", "", 404, "text/plain; charset=utf-8", "", "404 page not found", ""},
		{"GET", "/console/robots.txt", "", 200, "text/plain; charset=utf-8", "no-cache", "User-agent", ""},
		{"GET", "/console", "", 301, "", "", "", ""},
		{"POST", "/console/", "", 405, "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			if c.gzip != "" {
				req.Header.Set("Accept-Encoding", c.gzip)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.code {
				t.Fatalf("code %d, want %d (body %q)", rec.Code, c.code, rec.Body)
			}
			if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
				t.Errorf("CSP %q", got)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if c.code == 301 {
				if loc := rec.Header().Get("Location"); loc != "/console/" {
					t.Errorf("Location %q, want /console/", loc)
				}
				return
			}
			if c.ctype != "" && rec.Header().Get("Content-Type") != c.ctype {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), c.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control %q, want %q", got, c.cache)
			}
			if got := rec.Header().Get("Content-Encoding"); got != c.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, c.encoding)
			}
			if !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("body %q, want it to contain %q", rec.Body, c.body)
			}
		})
	}
}

// TestEmbeddedBuild checks the committed build is what the binary serves:
// an index.html that loads hashed assets which exist.
func TestEmbeddedBuild(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/console/", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `src="/console/assets/`) {
		t.Fatalf("GET /console/: %d %q", rec.Code, body)
	}
	start := strings.Index(body, `src="/console/assets/`) + len(`src="`)
	asset := body[start : start+strings.Index(body[start:], `"`)]
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", asset, nil))
	if rec.Code != 200 || rec.Body.Len() == 0 {
		t.Fatalf("GET %s: %d, %d bytes", asset, rec.Code, rec.Body.Len())
	}
}
