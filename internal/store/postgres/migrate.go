package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the pg_advisory_lock key that serialises Migrate across
// replicas starting at once ("billingd" in ASCII).
const migrateLockKey int64 = 0x62696c6c696e6764

type migration struct {
	version int
	name    string // file name, e.g. "0001_init.sql"
	sql     string
	stmts   []string // sql cut into statements (splitStatements)
}

var loadMigrations = sync.OnceValues(func() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		stmts, err := splitStatements(string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b), stmts: stmts})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d (no gaps, no duplicates)", m.name, i+1)
		}
	}
	return ms, nil
})

// MigrationsDigest identifies the embedded migrations (a hash of their names
// and contents), so test helpers can cache a migrated template per schema.
func MigrationsDigest() string {
	ms, err := loadMigrations()
	if err != nil {
		return "invalid"
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\x00%s\x00", m.name, m.sql)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Migrate applies the embedded migrations not applied yet, each in its own
// transaction together with its schema_migrations row, one statement at a
// time (Citus forwards some commands to its workers as they were sent, and
// refuses several in one string). A session advisory lock makes replicas
// that start together wait for each other instead of racing; the one that
// gets the lock second finds nothing left to do.
//
// On a database with the citus extension, Migrate then lays the tables out
// as schema_layout records them (migration 0013): usage and rollup tables
// distributed by customer_id and co-located, the small ones reference
// tables. Tables already laid out are left alone, so this also moves a
// database that got the extension after it was migrated.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, 0)
}

// migrateTo is Migrate up to version last (0: all), for upgrade tests.
func (s *Store) migrateTo(ctx context.Context, last int) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if last > 0 && last < len(ms) {
		ms = ms[:last]
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("postgres: migrate lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done, or the pooled connection keeps the lock.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	rows, _ := conn.Query(ctx, "SELECT version FROM schema_migrations")
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	if len(applied) > 0 && int(slices.Max(applied)) > len(ms) {
		return fmt.Errorf("postgres: database schema version %d is newer than this binary's %d", slices.Max(applied), len(ms))
	}
	citus, err := hasCitus(ctx, conn)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, m := range ms {
		if slices.Contains(applied, int32(m.version)) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if citus {
				if _, err := tx.Exec(ctx, sqlCitusSequential); err != nil {
					return err
				}
			}
			for i, stmt := range m.stmts {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("statement %d: %w", i+1, err)
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
	}
	if citus {
		if err := applyCitusLayout(ctx, conn); err != nil {
			return fmt.Errorf("postgres: citus layout: %w", err)
		}
	}
	return nil
}

const (
	sqlHasCitus = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"
	// DDL on distributed tables over one connection per worker: a
	// migration that reads or writes a table before changing it would
	// otherwise fail ("cannot execute DDL … because there was a parallel
	// operation on a distributed table in the transaction").
	sqlCitusSequential = "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"
	sqlHasLayout       = "SELECT to_regproc('billingd_apply_layout') IS NOT NULL"
	sqlApplyLayout     = "SELECT billingd_apply_layout()"
)

func hasCitus(ctx context.Context, q querier) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, sqlHasCitus).Scan(&ok)
	return ok, err
}

// applyCitusLayout distributes the tables schema_layout lists and Citus
// does not know yet (billingd_apply_layout, migration 0013).
func applyCitusLayout(ctx context.Context, conn *pgxpool.Conn) error {
	var ok bool
	if err := conn.QueryRow(ctx, sqlHasLayout).Scan(&ok); err != nil || !ok {
		return err // migrated only up to before 0013 (upgrade tests)
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlCitusSequential); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlApplyLayout)
		return err
	})
}

// SchemaVersion returns the highest applied migration version (0 for none).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}
