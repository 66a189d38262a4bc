// Package console serves billingd's web console: the single-page app built
// from web/ (Vite) into dist/ and embedded in the binary. It only serves
// files; the app talks to the public REST API (/v1/…) with the signed-in
// user's API key, like any other client.
package console

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the console is mounted; web/vite.config.mjs builds with
// the same base.
const Prefix = "/console/"

//go:embed all:dist
var dist embed.FS

// securityHeaders is sent with every response: the app loads nothing from
// elsewhere and runs no inline script, so the policy can be strict.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

func init() {
	// Go's table lacks these; a wrong type would trip nosniff.
	_ = mime.AddExtensionType(".map", "application/json")
	_ = mime.AddExtensionType(".webmanifest", "application/manifest+json")
}

// Handler serves the embedded build under Prefix: hashed assets cached for a
// year (a missing one is a plain 404, never the HTML shell), other files
// revalidated, and every other path — the app's client-side routes such as
// /console/bills/acme — the index.html shell.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // cannot happen: dist is embedded
	}
	return handler(sub)
}

func handler(files fs.FS) http.Handler {
	index, indexErr := fs.ReadFile(files, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), Prefix)
		if strings.HasPrefix(name, "assets/") {
			if !exists(files, name) {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			serveFile(w, r, files, name)
			return
		}
		if name != "index.html" && exists(files, name) {
			w.Header().Set("Cache-Control", "no-cache")
			serveFile(w, r, files, name)
			return
		}
		if indexErr != nil {
			http.Error(w, "the console is not built into this binary (web/: make console)", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

func exists(files fs.FS, name string) bool {
	st, err := fs.Stat(files, name)
	return err == nil && !st.IsDir()
}

// serveFile serves name, or its gzip twin name.gz (written by the web build)
// when the client accepts gzip.
func serveFile(w http.ResponseWriter, r *http.Request, files fs.FS, name string) {
	if ctype := mime.TypeByExtension(path.Ext(name)); ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.Header().Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && exists(files, name+".gz") {
		w.Header().Set("Content-Encoding", "gzip")
		name += ".gz"
	}
	http.ServeFileFS(w, r, files, name)
}
