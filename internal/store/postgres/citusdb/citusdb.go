// Package citusdb creates and drops a database on every node of a Citus
// cluster, for tests and benchmarks: Citus keeps its metadata per
// database, so a new database needs the extension on each node and the
// nodes registered on its coordinator.
package citusdb

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// node is one PostgreSQL instance of the cluster.
type node struct {
	host string
	port int
}

// Create creates database name on every active primary node of the
// cluster whose coordinator adminURL points at (any database of it that
// has the citus extension and the nodes registered, e.g. the postgres
// database of scripts/citus/cluster.sh). It returns adminURL pointed at
// the new database, and a function that drops it on every node.
func Create(ctx context.Context, adminURL, name string) (string, func(context.Context) error, error) {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	rows, _ := admin.Query(ctx, `SELECT nodename, nodeport FROM pg_dist_node
		WHERE noderole = 'primary' AND isactive ORDER BY groupid`)
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (node, error) {
		var n node
		err := r.Scan(&n.host, &n.port)
		return n, err
	})
	if err != nil {
		return "", nil, fmt.Errorf("read the Citus nodes: %w", err)
	}
	if len(nodes) < 2 {
		return "", nil, fmt.Errorf("the coordinator has %d nodes registered: start the cluster with scripts/citus/cluster.sh", len(nodes))
	}
	drop := func(ctx context.Context) error {
		var first error
		for i := len(nodes) - 1; i >= 0; i-- {
			if err := exec(ctx, adminURL, nodes[i], "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil && first == nil {
				first = fmt.Errorf("drop %s on %s:%d: %w", name, nodes[i].host, nodes[i].port, err)
			}
		}
		return first
	}
	fail := func(err error) (string, func(context.Context) error, error) {
		_ = drop(context.WithoutCancel(ctx))
		return "", nil, err
	}
	for _, n := range nodes {
		if err := exec(ctx, adminURL, n, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fail(fmt.Errorf("create %s on %s:%d: %w", name, n.host, n.port, err))
		}
	}
	for _, n := range nodes[1:] {
		if err := exec(ctx, adminURL, n, name, "CREATE EXTENSION citus"); err != nil {
			return fail(fmt.Errorf("citus on worker %s:%d: %w", n.host, n.port, err))
		}
	}
	coord := nodes[0]
	setup := []string{"CREATE EXTENSION citus",
		fmt.Sprintf("SELECT citus_set_coordinator_host('%s', %d)", coord.host, coord.port)}
	for _, n := range nodes[1:] {
		setup = append(setup, fmt.Sprintf("SELECT citus_add_node('%s', %d)", n.host, n.port))
	}
	// Registering a node makes the coordinator ALTER ROLE its user on the
	// worker (worker_create_or_alter_role), a row of the worker's shared
	// pg_authid: two databases registered at once (parallel tests, or
	// test binaries of several packages) fail one with "tuple concurrently
	// updated". The admin session's advisory lock, in the one database
	// all of them connect to, takes them one at a time.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", registerLockKey); err != nil {
		return fail(fmt.Errorf("wait to register the nodes: %w", err))
	}
	for _, sql := range setup {
		if err := exec(ctx, adminURL, coord, name, sql); err != nil {
			_, _ = admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", registerLockKey)
			return fail(fmt.Errorf("%s: %w", sql, err))
		}
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", registerLockKey); err != nil {
		return fail(err)
	}
	u, err := at(adminURL, coord, name)
	if err != nil {
		return fail(err)
	}
	return u, drop, nil
}

// registerLockKey is the advisory lock Create holds on the admin database
// while it registers the nodes in a new one ("citusreg").
const registerLockKey int64 = 0x6369747573726567

func exec(ctx context.Context, adminURL string, n node, db, sql string) error {
	u, err := at(adminURL, n, db)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// at is adminURL pointed at another node and database.
func at(adminURL string, n node, db string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("the Citus URL must be a postgres:// URL")
	}
	u.Host = net.JoinHostPort(n.host, strconv.Itoa(n.port))
	u.Path = "/" + db
	return u.String(), nil
}
