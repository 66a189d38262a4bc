package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use unless BILLINGD_TEST_DATABASE_URL says otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateLockKey serialises template creation across test processes
// (go test runs packages in parallel).
const templateLockKey int64 = 0x62696c6c74706c // "billtpl"

// AdminURL returns the URL of the server's maintenance database.
func AdminURL() string {
	if u := os.Getenv("BILLINGD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var template = sync.OnceValues(ensureTemplate)

// NewDatabase creates an empty database with every migration applied,
// drops it when the test ends, and returns its URL. The URL caps the pool at
// four connections so parallel tests stay under max_connections.
//
// In a test named TestCitus… (see RunOnCitus) the database is on the Citus
// cluster of BILLINGD_TEST_CITUS_URL instead, migrated into the Citus
// layout.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if onCitus(t) {
		return newCitusDatabase(t, true)
	}
	tpl, err := template()
	if err != nil {
		t.Fatalf("pgtest: template database: %v", err)
	}
	return newDatabase(t, tpl)
}

func newDatabase(t testing.TB, tpl string) string {
	t.Helper()
	name := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return databaseURL(name, "4")
}

// NewEmptyStore opens a store on a new database without any migration,
// dropped when the test ends; for tests of Migrate itself.
func NewEmptyStore(t testing.TB) *postgres.Store {
	t.Helper()
	return openStore(t, NewEmptyDatabase(t))
}

// NewEmptyDatabase is NewDatabase without any migration applied.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	if onCitus(t) {
		return newCitusDatabase(t, false)
	}
	return newDatabase(t, "template0")
}

// NewStore opens a store on a new database (see NewDatabase) and closes it
// when the test ends.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	return openStore(t, NewDatabase(t))
}

func openStore(t testing.TB, url string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// ensureTemplate creates billingd_tpl_<digest> once per schema. It builds
// under another name and renames when done, so a crash never leaves a
// half-migrated template under the final name.
func ensureTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "billingd_tpl_" + postgres.MigrationsDigest()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s (set BILLINGD_TEST_DATABASE_URL): %w", redact(AdminURL()), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey) //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	for _, sql := range []string{
		"DROP DATABASE IF EXISTS " + building + " WITH (FORCE)",
		"CREATE DATABASE " + building,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", err
		}
	}
	s, err := postgres.Open(ctx, databaseURL(building, "2"))
	if err != nil {
		return "", err
	}
	err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+name+" IS '"+templateComment+time.Now().UTC().Format(time.RFC3339)+"'"); err != nil {
		return "", err
	}
	dropStaleTemplates(ctx, conn, name)
	return name, nil
}

// templateMaxAge is how long a template of another schema is kept. Other
// checkouts (other branches, a concurrent CI run) may be using it right
// now: dropping it at once made their tests fail with "template database
// does not exist" between their existence check and CREATE DATABASE.
const templateMaxAge = 24 * time.Hour

// dropStaleTemplates removes templates of other schemas built more than
// templateMaxAge ago (the build time is kept in the database's comment).
func dropStaleTemplates(ctx context.Context, conn *pgx.Conn, keep string) {
	rows, _ := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'billingd\_tpl\_%' AND datname <> $1`, keep)
	type tpl struct{ Name, Comment string }
	tpls, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tpl])
	if err != nil {
		return
	}
	for _, t := range tpls {
		built, err := time.Parse(time.RFC3339, strings.TrimPrefix(t.Comment, templateComment))
		if err != nil || time.Since(built) < templateMaxAge {
			continue // unknown age or young: leave it to its own run
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{t.Name}.Sanitize())
	}
}

const templateComment = "billingd test template built "

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseURL is AdminURL pointed at another database.
func databaseURL(name, maxConns string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic(fmt.Sprintf("pgtest: BILLINGD_TEST_DATABASE_URL must be a postgres:// URL: %v", err))
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("pool_max_conns", maxConns)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
