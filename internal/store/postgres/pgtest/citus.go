package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/citusdb"
)

// CitusURLEnv names the variable that points the Citus suite at a Citus
// coordinator's maintenance database, e.g. the one scripts/citus/cluster.sh
// starts: postgres://postgres@127.0.0.1:9700/postgres?sslmode=disable.
const CitusURLEnv = "BILLINGD_TEST_CITUS_URL"

// CitusPrefix starts the name of every test that runs on Citus: a test
// named TestCitus… (and its subtests) gets its databases from the Citus
// cluster, so one package can run its own tests on both backends (see
// RunOnCitus).
const CitusPrefix = "TestCitus"

// CitusURL returns BILLINGD_TEST_CITUS_URL ("" when unset).
func CitusURL() string { return os.Getenv(CitusURLEnv) }

// RunOnCitus runs each of tests as a subtest of t (which must be named
// TestCitus…) against databases on the Citus cluster, or skips t when
// BILLINGD_TEST_CITUS_URL is not set (CI has no Citus).
func RunOnCitus(t *testing.T, tests map[string]func(*testing.T)) {
	t.Helper()
	if !strings.HasPrefix(t.Name(), CitusPrefix) {
		t.Fatalf("pgtest: RunOnCitus from %s: the test's name must start with %s", t.Name(), CitusPrefix)
	}
	if CitusURL() == "" {
		t.Skipf("%s is not set: no Citus cluster to test against (scripts/citus/cluster.sh starts one)", CitusURLEnv)
	}
	for name, fn := range tests {
		t.Run(name, fn)
	}
}

// onCitus reports whether t runs on the Citus cluster.
func onCitus(t testing.TB) bool {
	return strings.HasPrefix(t.Name(), CitusPrefix) && CitusURL() != ""
}

// newCitusDatabase creates a database on every node of the cluster
// (citusdb.Create), migrates it unless empty, drops it when the test ends
// and returns its URL, with the pool capped at four connections.
func newCitusDatabase(t testing.TB, migrate bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := "test_citus_" + randomHex(6)
	dbURL, drop, err := citusdb.Create(ctx, CitusURL(), name)
	if err != nil {
		t.Fatalf("pgtest: Citus database at %s (%s): %v", redact(CitusURL()), CitusURLEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "4")
	u.RawQuery = q.Encode()
	dbURL = u.String()
	if migrate {
		s, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatalf("pgtest: open %s: %v", name, err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("pgtest: migrate %s on Citus: %v", name, err)
		}
	}
	return dbURL
}
