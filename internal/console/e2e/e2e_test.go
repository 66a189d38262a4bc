// Package e2e runs the web console's browser tests (web/e2e, Node with
// playwright-core driving Debian's chromium) against a real billingd on
// PostgreSQL, so that `make test` and CI run them with the Go tests.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/app/apptest"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

const adminKey = "console-e2e-admin-key-0123456789abcdef0123"

// TestConsoleInChromium needs node, web/node_modules (make test installs it
// with npm ci) and chromium. Without them it skips, unless
// BILLINGD_BROWSER_TESTS=1 (CI) makes their absence a failure.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	web, err := filepath.Abs("../../../web")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "web/node_modules (cd web && npm ci)")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	if len(missing) > 0 {
		if os.Getenv("BILLINGD_BROWSER_TESTS") == "1" {
			t.Fatalf("BILLINGD_BROWSER_TESTS=1 but missing: %v", missing)
		}
		t.Skipf("browser tests skipped, missing: %v (BILLINGD_BROWSER_TESTS=1 makes this a failure)", missing)
	}

	base := startBillingd(t)
	artifacts := os.Getenv("CONSOLE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "--test-concurrency=1", "e2e/console.test.mjs")
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "BILLINGD_URL="+base, "BILLINGD_ADMIN_KEY="+adminKey, "CONSOLE_ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test web/e2e/console.test.mjs (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// startBillingd runs billingd with API keys and the console on, on a fresh
// database, and returns its HTTP base URL.
func startBillingd(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.BootstrapAdminKey, cfg.RateLimit = adminKey, 0
	return "http://" + apptest.Start(t, cfg, nil).HTTPAddr()
}
