package app_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/embedded"
)

// TestEmbeddedDefault starts billingd with no database URL: it must run its
// own PostgreSQL in the data directory, be ready, and leave no postgres
// process behind when it stops.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	if _, err := embedded.Find(""); err != nil {
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}
	dir := t.TempDir()
	// When tests run as root the cluster runs as the postgres user, which
	// must be able to enter the test's temporary directories (0700).
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.DatabaseURL = ""
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Auth = false

	var pid int
	t.Run("serve", func(t *testing.T) {
		s := start(t, cfg)
		if code, body := s.call(t, "GET", "/readyz", nil); code != http.StatusOK {
			t.Fatalf("/readyz = %d %v", code, body)
		}
		seedCatalog(t, s) // the embedded database is migrated and writable
		raw, err := os.ReadFile(filepath.Join(cfg.DataDir, "pg", "postmaster.pid"))
		if err != nil {
			t.Fatalf("no postmaster.pid in the data dir: %v", err)
		}
		pid, err = strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
	}) // the subtest's cleanup stops billingd
	if pid == 0 {
		t.Fatal("postmaster pid unknown")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still running after billingd stopped: kill(0) = %v", pid, err)
	}
}
