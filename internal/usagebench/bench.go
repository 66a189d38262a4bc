package usagebench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres"
)

// Config says how big a run is and where PostgreSQL is.
type Config struct {
	Records    int    // N, per phase
	Clients    int    // concurrent gRPC clients in phase (c)
	Batch      int    // records per stream message
	Window     int    // unacknowledged messages per stream
	PoolConns  int    // billingd's connection pool; 0 is pgx's default
	AdminURL   string // a database of the server to CREATE DATABASE from
	CPUProfile string // write a CPU profile of phase (c) here when set
	Keep       bool   // keep the database for inspection
}

// DefaultAdminURL is BILLINGD_TEST_DATABASE_URL or the local server.
func DefaultAdminURL() string {
	if u := os.Getenv("BILLINGD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Result holds the figures of one run.
type Result struct {
	Plain, Unique, Ingest time.Duration // phases (a), (b), (c)
	Records               int
	MaxRSSBytes           int64 // VmHWM of this process after the run
	MonthQuery            time.Duration
	CPU                   [3]cpuUsed // CPU time of phases (a), (b), (c)
	WAL                   [3]int64   // WAL bytes written in phases (a), (b), (c)
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func perRow(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// Print writes the figures and ratios.
func (r Result) Print(w io.Writer, cfg Config) {
	a, b, c := rate(r.Records, r.Plain), rate(r.Records, r.Unique), rate(r.Records, r.Ingest)
	fmt.Fprintf(w, "records: %d, clients: %d, batch: %d\n", r.Records, cfg.Clients, cfg.Batch)
	fmt.Fprintf(w, "(a) COPY, no index:            %8.2fs %10.0f rows/s\n", r.Plain.Seconds(), a)
	fmt.Fprintf(w, "(b) COPY, unique key index:    %8.2fs %10.0f rows/s\n", r.Unique.Seconds(), b)
	fmt.Fprintf(w, "(c) gRPC ingest, idempotent:   %8.2fs %10.0f records/s\n", r.Ingest.Seconds(), c)
	fmt.Fprintf(w, "ratio c/a: %.2f   ratio c/b: %.2f\n", c/a, c/b)
	fmt.Fprintf(w, "CPU time and WAL per row (this process = billingd + clients; %d CPUs shared with PostgreSQL):\n", runtime.NumCPU())
	for i, name := range []string{"(a)", "(b)", "(c)"} {
		u := r.CPU[i]
		fmt.Fprintf(w, "  %s this process %5.2f µs, PostgreSQL backends %5.2f µs + WAL writer/checkpointer/bgwriter %5.2f µs, WAL %4.0f B\n", name,
			perRow(u.Self, r.Records), perRow(u.Backends, r.Records), perRow(u.Background, r.Records), float64(r.WAL[i])/float64(r.Records))
	}
	fmt.Fprintf(w, "max RSS (VmHWM): %.0f MB\n", float64(r.MaxRSSBytes)/(1<<20))
	fmt.Fprintf(w, "month aggregate of one customer's raw usage: %v\n", r.MonthQuery.Round(time.Microsecond))
}

// Run creates a database, runs the three phases and drops the database.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	res := Result{Records: cfg.Records}
	if os.Getenv("USAGEBENCH_SKIP_ROLLUPS") == "1" {
		// the baseline without hourly rollups, to see what they cost
		postgres.DisableRollupsForBenchmark(true)
		defer postgres.DisableRollupsForBenchmark(false)
		fmt.Fprintln(progress, "hourly rollups OFF (USAGEBENCH_SKIP_ROLLUPS=1): billing would miss this usage")
	}
	name := "usagebench_" + randomHex(6)
	admin, err := pgx.Connect(ctx, cfg.AdminURL)
	if err != nil {
		return res, fmt.Errorf("connect %s: %w", redact(cfg.AdminURL), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return res, err
	}
	if !cfg.Keep {
		defer func() {
			_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}()
	} else {
		fmt.Fprintf(progress, "database %s is kept\n", name)
	}
	dbURL, err := withDatabase(cfg.AdminURL, name, cfg.PoolConns)
	if err != nil {
		return res, err
	}

	// billingd migrates the database; the baselines then copy into tables
	// shaped like usage_records.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	appCfg := config.Default()
	appCfg.DatabaseURL, appCfg.GRPCAddr, appCfg.HTTPAddr = dbURL, "127.0.0.1:0", "127.0.0.1:0"
	appCfg.Auth = false // measured: ingestion; API keys would add one hash lookup per stream
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	a, err := app.New(runCtx, appCfg, log)
	if err != nil {
		return res, fmt.Errorf("start billingd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { stop(); <-done }()

	conn, err := pgx.Connect(ctx, plainURL(dbURL))
	if err != nil {
		return res, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := seed(ctx, conn); err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}

	// measure runs one phase and records its CPU time and WAL volume.
	measure := func(phase int, run func() error) error {
		before, lsn := sampleCPU(ctx, conn), walLSN(ctx, conn)
		err := run()
		res.CPU[phase], res.WAL[phase] = before.until(sampleCPU(ctx, conn)), walLSN(ctx, conn)-lsn
		return err
	}
	fmt.Fprintln(progress, "(a) COPY into a table without indexes…")
	if err := measure(0, func() (err error) {
		res.Plain, err = copyInto(ctx, conn, "bench_plain", "", cfg.Records)
		return err
	}); err != nil {
		return res, err
	}
	fmt.Fprintln(progress, "(b) COPY into a table with a unique index on the key…")
	if err := measure(1, func() (err error) {
		res.Unique, err = copyInto(ctx, conn, "bench_unique", "CREATE UNIQUE INDEX ON bench_unique (idempotency_key)", cfg.Records)
		return err
	}); err != nil {
		return res, err
	}
	// Checkpoint so that phase (c) does not pay for the baselines' dirty pages.
	if _, err := conn.Exec(ctx, "DROP TABLE bench_plain, bench_unique"); err != nil {
		return res, err
	}
	_, _ = conn.Exec(ctx, "CHECKPOINT")

	fmt.Fprintf(progress, "(c) %d gRPC clients streaming into billingd…\n", cfg.Clients)
	stopProfile, err := startProfile(cfg.CPUProfile)
	if err != nil {
		return res, err
	}
	err = measure(2, func() (err error) {
		res.Ingest, err = stream(ctx, a.GRPCAddr(), cfg)
		return err
	})
	stopProfile()
	if err != nil {
		return res, err
	}
	if err := verify(ctx, conn, cfg.Records); err != nil {
		return res, err
	}
	if res.MonthQuery, err = monthQuery(ctx, conn); err != nil {
		return res, err
	}
	res.MaxRSSBytes = maxRSS()
	return res, nil
}

// walLSN is the current WAL position in bytes.
func walLSN(ctx context.Context, conn *pgx.Conn) int64 {
	var n int64
	_ = conn.QueryRow(ctx, "SELECT pg_current_wal_lsn() - '0/0'").Scan(&n)
	return n
}

// seed creates the customers and metrics the records refer to.
func seed(ctx context.Context, conn *pgx.Conn) error {
	now := time.Now()
	for _, m := range metrics {
		if _, err := conn.Exec(ctx, `INSERT INTO metrics (key, unit, aggregation, create_time, update_time)
			VALUES ($1, $2, $3, $4, $4)`, m.key, m.unit, m.aggregation, now); err != nil {
			return err
		}
	}
	_, err := conn.Exec(ctx, `INSERT INTO customers (id, display_name, create_time, update_time)
		SELECT format('cust-%s', lpad(i::text, 3, '0')), 'Customer ' || i, $2, $2 FROM generate_series(0, $1 - 1) i`,
		Customers, now)
	return err
}

func copyInto(ctx context.Context, conn *pgx.Conn, table, index string, n int) (time.Duration, error) {
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (LIKE usage_records INCLUDING DEFAULTS)"); err != nil {
		return 0, err
	}
	if index != "" {
		if _, err := conn.Exec(ctx, index); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{table}, columns, &copyRows{n: n, received: start})
	elapsed := time.Since(start)
	if err == nil && int(copied) != n {
		err = fmt.Errorf("%s: copied %d rows, want %d", table, copied, n)
	}
	return elapsed, err
}

// verify checks that the run stored every record exactly once.
func verify(ctx context.Context, conn *pgx.Conn, n int) error {
	var keys, recs int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM usage_keys), (SELECT count(*) FROM usage_records)").Scan(&keys, &recs); err != nil {
		return err
	}
	if keys != n || recs != n {
		return fmt.Errorf("stored usage_keys=%d usage_records=%d, want %d each", keys, recs, n)
	}
	return nil
}

// monthQuery times a month aggregate of one customer's raw usage, the
// work a billing query does before rating.
func monthQuery(ctx context.Context, conn *pgx.Conn) (time.Duration, error) {
	start := time.Now()
	rows, _ := conn.Query(ctx, `SELECT metric_key, dimensions->>'policy', count(*), sum(quantity) FROM usage_records
		WHERE customer_id = $1 AND metric_key = ANY($2) AND start_time >= $3 AND start_time < $4 GROUP BY 1, 2`,
		CustomerID(7), []string{metrics[0].key, metrics[1].key, metrics[2].key}, month, month.AddDate(0, 1, 0))
	rows.Close()
	return time.Since(start), rows.Err()
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// maxRSS is the process's peak resident set (VmHWM), in bytes.
func maxRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

func withDatabase(admin, name string, poolConns int) (string, error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("--database-url must be a postgres:// URL")
	}
	u.Path = "/" + name
	if poolConns > 0 {
		q := u.Query()
		q.Set("pool_max_conns", fmt.Sprint(poolConns))
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// plainURL drops the pool settings a single connection refuses.
func plainURL(s string) string {
	u, _ := url.Parse(s)
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable url)"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
