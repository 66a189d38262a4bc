package usagebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"

	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/citusdb"
)

// Config says how big a run is and where PostgreSQL is.
type Config struct {
	Records    int    // N, per phase
	Clients    int    // concurrent gRPC clients in phase (c)
	Batch      int    // records per stream message
	Window     int    // unacknowledged messages per stream
	PoolConns  int    // billingd's connection pool; 0 is pgx's default
	AdminURL   string // a database of the server to CREATE DATABASE from
	Billingd   string // billingd binary to run as a subprocess; empty: billingd in this process
	CPUProfile string // write a CPU profile of this process during phase (c) here when set
	Keep       bool   // keep the database for inspection
	// CitusURL, when set, runs on a database created on every node of the
	// Citus cluster whose coordinator it points at (citusdb.Create),
	// which billingd lays out when it migrates; the baselines COPY into
	// tables on the coordinator. AdminURL is not used then.
	CitusURL string
	// SequentialKeys uses keys "bench-<i>", whose order follows the
	// load's, instead of collector-shaped ones ("vcenter:vc01:<VM
	// UUID>:<metric>:<time>"), whose order is scattered: a unique index on
	// the key alone (baseline b) is faster with the former.
	SequentialKeys bool
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
	Plain, Unique, Ingest time.Duration // phases (a), (b), (c): (c) until the last acknowledgement
	// RollupsCurrent is from the start of (c) until the rollup workers
	// had drained every dirty hour (≥ Ingest).
	RollupsCurrent time.Duration
	Records        int
	MaxRSSBytes    int64 // VmHWM of billingd (of this process when in process) at the end
	// One customer's month through QueryBilling: right after the last
	// acknowledgement (hours may still be dirty: read raw) and the fastest
	// of three once the rollups are current; both must give the same total.
	MonthQueryDirty, MonthQuery time.Duration
	MonthLines                  int
	MonthTotal                  string
	// Resend is phase (d): the first ResendRecords records sent again,
	// every one a duplicate, until the last acknowledgement.
	Resend        time.Duration
	ResendRecords int
	CPU           [3]cpuUsed // CPU time of phases (a), (b), (c) (c until rollups are current)
	WAL           [3]int64   // WAL bytes written in phases (a), (b), (c)
}

// maxResend bounds phase (d).
const maxResend = 100_000

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func perRow(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// Print writes the figures and ratios.
func (r Result) Print(w io.Writer, cfg Config) {
	a, b, c := rate(r.Records, r.Plain), rate(r.Records, r.Unique), rate(r.Records, r.Ingest)
	e := rate(r.Records, r.RollupsCurrent)
	inProcess := cfg.Billingd == ""
	where := "a subprocess"
	if inProcess {
		where = "in this process"
	}
	backend := "single PostgreSQL"
	if cfg.CitusURL != "" {
		backend = "Citus coordinator + workers (CPU below: this host's coordinator processes only)"
	}
	fmt.Fprintf(w, "records: %d, clients: %d, batch: %d, billingd %s, hourly rollups on, %s\n", r.Records, cfg.Clients, cfg.Batch, where, backend)
	fmt.Fprintf(w, "(a) COPY, no index:                 %8.2fs %10.0f rows/s\n", r.Plain.Seconds(), a)
	fmt.Fprintf(w, "(b) COPY, unique key index:         %8.2fs %10.0f rows/s\n", r.Unique.Seconds(), b)
	fmt.Fprintf(w, "(c) gRPC ingest, idempotent, acked: %8.2fs %10.0f records/s   ratio c/a: %.2f   c/b: %.2f\n",
		r.Ingest.Seconds(), c, c/a, c/b)
	fmt.Fprintf(w, "    … and hourly rollups current:   %8.2fs %10.0f records/s   ratio    : %.2f      : %.2f\n",
		r.RollupsCurrent.Seconds(), e, e/a, e/b)
	if r.ResendRecords > 0 {
		fmt.Fprintf(w, "(d) resend of %d stored records:    %8.2fs %10.0f records/s   (all duplicates)\n",
			r.ResendRecords, r.Resend.Seconds(), rate(r.ResendRecords, r.Resend))
	}
	fmt.Fprintf(w, "CPU time and WAL per row (%d CPUs shared by everything):\n", runtime.NumCPU())
	for i, name := range []string{"(a)", "(b)", "(c)"} {
		u := r.CPU[i]
		fmt.Fprintf(w, "  %s bench process %5.2f µs, billingd %5.2f µs, PostgreSQL backends %5.2f µs + WAL writer/checkpointer/bgwriter %5.2f µs, WAL %4.0f B\n",
			name, perRow(u.Self, r.Records), perRow(u.Server, r.Records), perRow(u.Backends, r.Records), perRow(u.Background, r.Records),
			float64(r.WAL[i])/float64(r.Records))
	}
	if inProcess {
		fmt.Fprintln(w, "  (billingd in process: its CPU is in the bench process's)")
	}
	fmt.Fprintf(w, "billingd max RSS (VmHWM): %.0f MB\n", float64(r.MaxRSSBytes)/(1<<20))
	fmt.Fprintf(w, "month query (QueryBilling, one customer, %d lines, total %s): %v rollups current, %v right after the last ack\n",
		r.MonthLines, r.MonthTotal, r.MonthQuery.Round(time.Microsecond), r.MonthQueryDirty.Round(time.Microsecond))
}

// Run creates a database, runs the three phases and drops the database.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	res := Result{Records: cfg.Records}
	sequentialKeys = cfg.SequentialKeys
	skipRollups := os.Getenv("USAGEBENCH_SKIP_ROLLUPS") == "1"
	if skipRollups && cfg.Billingd != "" {
		return res, errors.New("USAGEBENCH_SKIP_ROLLUPS=1 needs billingd in process (-billingd '')")
	}
	if skipRollups {
		// the baseline without hourly rollups, to see what they cost
		postgres.DisableRollupsForBenchmark(true)
		defer postgres.DisableRollupsForBenchmark(false)
		fmt.Fprintln(progress, "hourly rollups OFF (USAGEBENCH_SKIP_ROLLUPS=1): billing would miss this usage")
	}
	name := RandomName("usagebench_")
	var (
		dbURL string
		drop  func(context.Context) error
		err   error
	)
	if cfg.CitusURL != "" {
		if dbURL, drop, err = citusdb.Create(ctx, cfg.CitusURL, name); err != nil {
			return res, fmt.Errorf("database on the Citus cluster: %w", err)
		}
	} else if dbURL, drop, err = NewDatabase(ctx, cfg.AdminURL, name); err != nil {
		return res, err
	}
	if !cfg.Keep {
		defer func() { _ = drop(context.WithoutCancel(ctx)) }()
	} else {
		fmt.Fprintf(progress, "database %s is kept\n", name)
	}
	if dbURL, err = withDatabase(dbURL, name, cfg.PoolConns); err != nil {
		return res, err
	}

	// billingd migrates the database; the baselines then copy into tables
	// shaped like usage_records.
	srv, err := StartServer(ctx, cfg.Billingd, dbURL, progress)
	if err != nil {
		return res, err
	}
	defer srv.Stop()

	conn, err := pgx.Connect(ctx, PlainURL(dbURL))
	if err != nil {
		return res, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := seed(ctx, conn); err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}

	// measure runs one phase and records its CPU time and WAL volume.
	measure := func(phase int, run func() error) error {
		before, lsn := sampleCPU(ctx, conn, srv.PID()), walLSN(ctx, conn)
		err := run()
		res.CPU[phase], res.WAL[phase] = before.until(sampleCPU(ctx, conn, srv.PID())), walLSN(ctx, conn)-lsn
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
	var dirtyTotal string
	err = measure(2, func() (err error) {
		start := time.Now()
		if res.Ingest, err = Stream(ctx, srv.GRPCAddr, cfg.stream(), fill); err != nil {
			return err
		}
		if skipRollups {
			res.RollupsCurrent = res.Ingest
			return nil
		}
		// The query right after the load reads raw records for the hours
		// the workers have not rolled up yet.
		if res.MonthQueryDirty, _, dirtyTotal, err = monthQuery(ctx, srv.GRPCAddr); err != nil {
			return err
		}
		if err := WaitRollups(ctx, conn); err != nil {
			return err
		}
		res.RollupsCurrent = time.Since(start)
		return nil
	})
	stopProfile()
	if err != nil {
		return res, err
	}
	if err := verify(ctx, conn, cfg.Records); err != nil {
		return res, err
	}
	// (d) a collector resending what is stored already, e.g. after it lost
	// the acknowledgements: every record is a duplicate.
	resend := cfg
	resend.Records = min(cfg.Records, maxResend)
	fmt.Fprintf(progress, "(d) resending %d stored records…\n", resend.Records)
	if res.Resend, err = Stream(ctx, srv.GRPCAddr, resend.stream(), fill); err != nil {
		return res, fmt.Errorf("resend: %w", err)
	}
	res.ResendRecords = resend.Records
	if err := verify(ctx, conn, cfg.Records); err != nil {
		return res, fmt.Errorf("after the resend: %w", err)
	}
	if skipRollups {
		res.MaxRSSBytes = srv.MaxRSS()
		return res, nil // billing would miss the usage
	}
	for i := range 3 {
		d, lines, total, err := monthQuery(ctx, srv.GRPCAddr)
		if err != nil {
			return res, err
		}
		if i == 0 || d < res.MonthQuery {
			res.MonthQuery = d
		}
		res.MonthLines, res.MonthTotal = lines, total
	}
	if res.MonthTotal != dirtyTotal {
		return res, fmt.Errorf("month query: total %s with rollups current, %s right after the load", res.MonthTotal, dirtyTotal)
	}
	res.MaxRSSBytes = srv.MaxRSS()
	return res, nil
}

// WaitRollups waits until billingd's rollup workers have drained the
// dirty-hour log (usage_hourly_dirty is empty); conn is on billingd's
// database.
func WaitRollups(ctx context.Context, conn *pgx.Conn) error {
	for {
		var dirty bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM usage_hourly_dirty)").Scan(&dirty); err != nil {
			return err
		}
		if !dirty {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
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
	if _, err := conn.Exec(ctx, `INSERT INTO customers (id, display_name, create_time, update_time)
		SELECT format('cust-%s', lpad(i::text, 3, '0')), 'Customer ' || i, $2, $2 FROM generate_series(0, $1 - 1) i`,
		Customers, now); err != nil {
		return err
	}
	// an hourly price per metric, so that the month query rates every record
	for _, q := range []string{
		`INSERT INTO product_groups (id, display_name, create_time, update_time) VALUES ('bench', 'Bench', $1, $1)`,
		`INSERT INTO products (id, product_group_id, metric_key, display_name, create_time, update_time)
			SELECT key, 'bench', key, key, $1, $1 FROM metrics`,
		`INSERT INTO price_lists (id, display_name, currency, create_time, update_time) VALUES ('default', 'Default', 'EUR', $1, $1)`,
		`INSERT INTO prices (price_list_id, id, product_id, unit_price, granularity, valid_from, create_time, update_time)
			SELECT 'default', id, id, 0.0123, 'hour', '2025-01-01Z', $1, $1 FROM products`,
	} {
		if _, err := conn.Exec(ctx, q, now); err != nil {
			return err
		}
	}
	// billingd keeps the book it built by this version: a book written
	// with SQL must raise it (docs/operations.md)
	_, err := conn.Exec(ctx, "UPDATE book_version SET version = version + 1")
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

// verify checks that the run stored every record exactly once (the
// benchmark's keys are unique, so distinct keys count distinct records).
func verify(ctx context.Context, conn *pgx.Conn, n int) error {
	var keys, recs int
	if err := conn.QueryRow(ctx, "SELECT count(DISTINCT idempotency_key), count(*) FROM usage_records").Scan(&keys, &recs); err != nil {
		return err
	}
	if keys != n || recs != n {
		return fmt.Errorf("stored %d distinct keys in %d usage_records, want %d each", keys, recs, n)
	}
	return nil
}

// monthQuery times QueryBilling for one customer's month (the one of
// record 7) and returns its line count and total.
func monthQuery(ctx context.Context, addr string) (time.Duration, int, string, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return 0, 0, "", err
	}
	defer conn.Close()
	q := &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{CustomerID(7)}, StartTime: timestamppb.New(month), EndTime: timestamppb.New(month.AddDate(0, 1, 0)),
	}}
	client := billingv1.NewBillingServiceClient(conn)
	conn.Connect() // connect before the clock starts
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if s == connectivity.TransientFailure || !conn.WaitForStateChange(ctx, s) {
			return 0, 0, "", fmt.Errorf("month query: connection %v", s)
		}
	}
	start := time.Now()
	resp, err := client.QueryBilling(ctx, q)
	d := time.Since(start)
	if err != nil {
		return 0, 0, "", fmt.Errorf("month query: %w", err)
	}
	total := ""
	for _, t := range resp.GetTotals() {
		total += t.GetAmount() + " " + t.GetCurrency()
	}
	if len(resp.GetLines()) == 0 || len(resp.GetUnpricedUsage()) > 0 {
		return 0, 0, "", fmt.Errorf("month query: %d lines, %d unpriced", len(resp.GetLines()), len(resp.GetUnpricedUsage()))
	}
	return d, len(resp.GetLines()), total, nil
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
