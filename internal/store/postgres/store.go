package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	repo    // reads and single writes outside a transaction
	log     *slog.Logger
	metrics *storeMetrics
	closed  atomic.Bool // the rollup worker stops (silently) once set
	citus   bool        // the database has the citus extension (when opened)
	hints   readHints   // how usage windows were last counted (usage_pooled_read.go)
}

// Open connects to url (a postgres:// URL or key=value DSN; pool_* settings
// in it are honoured) and checks that the server answers.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "billingd"
	}
	// billingd's statements are index reads of one customer; a planner's
	// guess (a CTE of unknown size joined with a lateral index scan) can
	// still cost them above jit_above_cost, and compiling one took a second
	// here, for a statement that runs in milliseconds. "jit=on" in the URL
	// turns it back on.
	if _, ok := cfg.ConnConfig.RuntimeParams["jit"]; !ok {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// Recycle connections now and then so a replica follows a fail-over or
	// a DNS change, and do not keep idle ones forever.
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnLifetimeJitter = 5 * time.Minute
	cfg.MaxConnIdleTime = 5 * time.Minute
	if set := citusSessionSQL(cfg.ConnConfig.RuntimeParams); set != "" {
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, set)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	citus, err := hasCitus(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &Store{pool: pool, repo: repo{q: pool}, log: slog.Default(), metrics: newStoreMetrics(), citus: citus}, nil
}

// SetLogger sets where the store logs what no caller sees, such as a
// failed rollup drain; slog.Default() until set. Call it before use.
func (s *Store) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// citusSettings are the Citus settings every billingd session runs with,
// unless the database URL sets them (they are ignored without Citus).
// With Citus's defaults an ingest transaction that writes to many shards
// opens up to 16 connections per worker and commits on each of them: one
// connection per worker, and two kept open between transactions, made
// ingestion 10× faster (see docs/operations.md).
var citusSettings = [][2]string{
	{"citus.max_adaptive_executor_pool_size", "1"},
	{"citus.max_cached_conns_per_worker", "2"},
}

// citusSessionSQL is the statement that applies citusSettings to a new
// connection when the database has the citus extension ("" when the URL
// sets them all). Without Citus it returns no row and changes nothing.
func citusSessionSQL(params map[string]string) string {
	var sets []string
	for _, kv := range citusSettings {
		if _, ok := params[kv[0]]; !ok {
			sets = append(sets, fmt.Sprintf("set_config('%s', '%s', false)", kv[0], kv[1]))
		}
	}
	if len(sets) == 0 {
		return ""
	}
	return "SELECT " + strings.Join(sets, ", ") + " FROM pg_extension WHERE extname = 'citus'"
}

// Close closes every connection of the pool.
func (s *Store) Close() {
	s.closed.Store(true)
	s.pool.Close()
}

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return apperr.Wrap(apperr.KindUnavailable, err, "database unavailable")
	}
	return nil
}

// Tx is a transaction; its repositories run every call inside it.
type Tx struct{ repo }

// Catalog returns the catalog repository bound to the transaction.
func (t *Tx) Catalog() catalog.Repository { return &t.repo }

// Customers returns the customer repository bound to the transaction.
func (t *Tx) Customers() customer.Repository { return &t.repo }

// Pricing returns the pricing repository bound to the transaction.
func (t *Tx) Pricing() pricing.Repository { return &t.repo }

// maxTxAttempts bounds the retries of a transaction the server aborted with
// a serialization failure or a deadlock.
const maxTxAttempts = 3

// InTx runs fn in one READ COMMITTED transaction, committing when fn returns
// nil and rolling back otherwise. A serialization failure or deadlock runs
// fn again, up to three times in all.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = s.inTxOnce(ctx, fn)
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

func (s *Store) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Tx{repo{q: tx, audit: s.audit}})
	})
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok || retryable(err) {
		return err
	}
	return mapErr(err) // begin or commit failed
}

// retryable reports whether the server asked for the transaction to be retried.
func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == codeSerializationFailure || pg.Code == codeDeadlock
	}
	return false
}

// Catalog returns the store as a catalog.Store.
func (s *Store) Catalog() catalog.Store { return catalogStore{s} }

// Customers returns the store as a customer.Store.
func (s *Store) Customers() customer.Store { return customerStore{s} }

// Pricing returns the store as a pricing.Store.
func (s *Store) Pricing() pricing.Store { return pricingStore{s} }

type catalogStore struct{ *Store }

func (s catalogStore) InTx(ctx context.Context, fn func(catalog.Repository) error) error {
	return s.Store.InTx(ctx, func(tx *Tx) error { return fn(tx.Catalog()) })
}

type customerStore struct{ *Store }

func (s customerStore) InTx(ctx context.Context, fn func(customer.Repository) error) error {
	return s.Store.InTx(ctx, func(tx *Tx) error { return fn(tx.Customers()) })
}

type pricingStore struct{ *Store }

func (s pricingStore) InTx(ctx context.Context, fn func(pricing.Repository) error) error {
	return s.Store.InTx(ctx, func(tx *Tx) error { return fn(tx.Pricing()) })
}

var (
	_ catalog.Store  = catalogStore{}
	_ customer.Store = customerStore{}
	_ pricing.Store  = pricingStore{}

	_ catalog.Repository  = (*repo)(nil)
	_ customer.Repository = (*repo)(nil)
	_ pricing.Repository  = (*repo)(nil)
)
