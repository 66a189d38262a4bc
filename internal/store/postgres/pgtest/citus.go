package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/store/postgres"
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

// citusNode is one PostgreSQL instance of the cluster.
type citusNode struct {
	host string
	port int
}

// newCitusDatabase creates a database on every node of the cluster, with
// the citus extension and the cluster's nodes registered in it (Citus
// keeps its metadata per database), migrates it unless empty, drops it
// on every node when the test ends and returns its URL.
func newCitusDatabase(t testing.TB, migrate bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, CitusURL())
	if err != nil {
		t.Fatalf("pgtest: connect to %s (%s): %v", redact(CitusURL()), CitusURLEnv, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	rows, _ := admin.Query(ctx, `SELECT nodename, nodeport FROM pg_dist_node
		WHERE noderole = 'primary' AND isactive ORDER BY groupid`)
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (citusNode, error) {
		var n citusNode
		err := r.Scan(&n.host, &n.port)
		return n, err
	})
	if err != nil || len(nodes) < 2 {
		t.Fatalf("pgtest: %s has no Citus nodes registered (%v): start the cluster with scripts/citus/cluster.sh", redact(CitusURL()), err)
	}
	name := "test_citus_" + randomHex(6)
	for _, n := range nodes {
		if err := nodeExec(ctx, n, "postgres", "CREATE DATABASE "+name); err != nil {
			t.Fatalf("pgtest: create database on %s:%d: %v", n.host, n.port, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for i := len(nodes) - 1; i >= 0; i-- {
			if err := nodeExec(ctx, nodes[i], "postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				t.Errorf("pgtest: drop database %s on %s:%d: %v", name, nodes[i].host, nodes[i].port, err)
			}
		}
	})
	for _, n := range nodes[1:] {
		if err := nodeExec(ctx, n, name, "CREATE EXTENSION citus"); err != nil {
			t.Fatalf("pgtest: citus on worker %s:%d: %v", n.host, n.port, err)
		}
	}
	coord := nodes[0]
	setup := []string{"CREATE EXTENSION citus",
		fmt.Sprintf("SELECT citus_set_coordinator_host('%s', %d)", coord.host, coord.port)}
	for _, n := range nodes[1:] {
		setup = append(setup, fmt.Sprintf("SELECT citus_add_node('%s', %d)", n.host, n.port))
	}
	for _, sql := range setup {
		if err := nodeExec(ctx, coord, name, sql); err != nil {
			t.Fatalf("pgtest: %s: %v", sql, err)
		}
	}
	dbURL := nodeURL(coord, name, "4")
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

func nodeExec(ctx context.Context, n citusNode, db, sql string) error {
	conn, err := pgx.Connect(ctx, nodeURL(n, db, ""))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// nodeURL is the Citus URL pointed at another node and database.
func nodeURL(n citusNode, db, maxConns string) string {
	u, err := url.Parse(CitusURL())
	if err != nil {
		panic(fmt.Sprintf("pgtest: %s must be a postgres:// URL: %v", CitusURLEnv, err))
	}
	u.Host = net.JoinHostPort(n.host, strconv.Itoa(n.port))
	u.Path = "/" + db
	q := u.Query()
	if maxConns != "" {
		q.Set("pool_max_conns", maxConns)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
