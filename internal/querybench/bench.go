package querybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/usagebench"
)

// Config says how big a run is and where PostgreSQL and billingd are.
type Config struct {
	AdminURL string // a database of the server to CREATE DATABASE from
	Billingd string // billingd binary to run as a subprocess; empty: in this process
	Keep     bool   // keep the database for inspection

	Month    string // "YYYY-MM", the month loaded and queried
	Hours    int    // hours of usage loaded from the month's start; 0: the whole month
	BigVMs   int    // the big customer's VMs
	SmallVMs int    // the small customer's VMs

	LoadClients int // concurrent ingestion streams
	Batch       int // records per stream message

	Warmups  int           // unmeasured queries per customer before the measured ones
	Queries  int           // measured single-client queries per customer
	Clients  int           // concurrent clients on the big customer's month
	Duration time.Duration // how long the concurrent clients start queries

	// CPUProfile, when set, is where a Go CPU profile of the concurrent
	// run is written: of billingd only when it runs in this process.
	CPUProfile string
}

// Default is the scenario of issue 16: 200 VMs against 1 for October 2026.
func Default() Config {
	return Config{
		AdminURL: usagebench.DefaultAdminURL(), Month: "2026-10", BigVMs: 200, SmallVMs: 1,
		LoadClients: 4, Batch: 5000, Warmups: 3, Queries: 200, Clients: 50, Duration: 20 * time.Second,
	}
}

// Validate joins every problem of c.
func (c Config) Validate() error {
	var errs []error
	start, err := time.Parse("2006-01", c.Month)
	if err != nil {
		errs = append(errs, fmt.Errorf("month %q is not YYYY-MM", c.Month))
	} else if hours := monthHours(start); c.Hours < 0 || c.Hours > hours {
		errs = append(errs, fmt.Errorf("hours must be in 0..%d (0: the whole month)", hours))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"big VMs", c.BigVMs}, {"small VMs", c.SmallVMs}, {"load clients", c.LoadClients}, {"queries", c.Queries}, {"clients", c.Clients}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", f.name))
		}
	}
	if c.Batch <= 0 || c.Batch > 10000 {
		errs = append(errs, errors.New("batch must be in 1..10000"))
	}
	if c.Warmups < 0 || c.Duration <= 0 {
		errs = append(errs, errors.New("warm-ups must be ≥ 0 and the duration positive"))
	}
	return errors.Join(errs...)
}

func monthHours(start time.Time) int { return int(start.AddDate(0, 1, 0).Sub(start) / time.Hour) }

// Customer ids of the scenario.
const (
	BigCustomer   = "big-customer"
	SmallCustomer = "small-customer"
)

// Result holds the figures of one run.
type Result struct {
	Config
	Records, BigRecords, SmallRecords int
	Ingest                            time.Duration // first send to last acknowledgement
	DirtyAtAck                        int           // rows in usage_hourly_dirty at the last acknowledgement
	CatchUp                           time.Duration // last acknowledgement until usage_hourly_dirty was empty
	// Big and Small are the single-client figures, BigAnswer and
	// SmallAnswer what every one of their queries answered.
	Big, Small             Latency
	BigAnswer, SmallAnswer answer
	Concurrent             Latency // the big customer's month under Clients clients
	// billingd's memory: RSS before the concurrent run, and its peak
	// (VmHWM) during it, or since billingd started when the peak could not
	// be reset (PeakSinceStart); PeakAfterLoad is VmHWM before the reset.
	RSSBefore, PeakRSS, PeakAfterLoad int64
	PeakSinceStart                    bool
	InProcess                         bool
}

// Run creates a database, starts billingd on it, loads the catalog and the
// month, measures, and drops the database. The error is a failure of the
// run: a setup step, or a query that failed or answered another total
// (then the Result is complete and says how many).
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	res := Result{Config: cfg}
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	start, _ := time.Parse("2006-01", cfg.Month)
	if cfg.Hours == 0 {
		res.Hours = monthHours(start)
	}
	f := newFleet(start, res.Hours,
		customer{ID: BigCustomer, Name: fmt.Sprintf("Big customer (%d VMs)", cfg.BigVMs), VMs: cfg.BigVMs},
		customer{ID: SmallCustomer, Name: fmt.Sprintf("Small customer (%d VMs)", cfg.SmallVMs), VMs: cfg.SmallVMs})
	res.Records, res.BigRecords, res.SmallRecords = f.Records(), f.CustomerRecords(0), f.CustomerRecords(1)

	name := usagebench.RandomName("querybench_")
	dbURL, drop, err := usagebench.NewDatabase(ctx, cfg.AdminURL, name)
	if err != nil {
		return res, err
	}
	if cfg.Keep {
		fmt.Fprintf(progress, "database %s is kept\n", name)
	} else {
		defer func() { _ = drop(context.WithoutCancel(ctx)) }()
	}
	srv, err := usagebench.StartServer(ctx, cfg.Billingd, dbURL, progress)
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	res.InProcess = srv.InProcess()
	db, err := pgx.Connect(ctx, usagebench.PlainURL(dbURL))
	if err != nil {
		return res, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	conn, err := dial(ctx, srv.GRPCAddr)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if err := createCatalog(ctx, conn, f); err != nil {
		return res, fmt.Errorf("catalog: %w", err)
	}

	fmt.Fprintf(progress, "loading %d records (%d h × %d VMs × 3 metrics) with %d streams…\n", res.Records, res.Hours, cfg.BigVMs+cfg.SmallVMs, cfg.LoadClients)
	if res.Ingest, err = usagebench.Stream(ctx, srv.GRPCAddr, usagebench.StreamConfig{
		Records: res.Records, Clients: cfg.LoadClients, Batch: cfg.Batch, Window: 2,
	}, f.fill); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	acked := time.Now()
	if err := db.QueryRow(ctx, "SELECT count(*) FROM usage_hourly_dirty").Scan(&res.DirtyAtAck); err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "waiting for the rollup worker (%d dirty hours at the last acknowledgement)…\n", res.DirtyAtAck)
	if err := usagebench.WaitRollups(ctx, db); err != nil {
		return res, err
	}
	res.CatchUp = time.Since(acked)
	var stored int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM usage_records").Scan(&stored); err != nil {
		return res, err
	}
	if stored != res.Records {
		return res, fmt.Errorf("stored %d usage records, sent %d", stored, res.Records)
	}

	big, small := &querier{req: monthQuery(BigCustomer, cfg.Month)}, &querier{req: monthQuery(SmallCustomer, cfg.Month)}
	fmt.Fprintf(progress, "single client: %d warm-ups and %d queries per customer…\n", cfg.Warmups, cfg.Queries)
	res.Big = big.sequential(ctx, conn, cfg.Warmups, cfg.Queries)
	res.Small = small.sequential(ctx, conn, cfg.Warmups, cfg.Queries)

	res.PeakAfterLoad, res.RSSBefore = srv.MaxRSS(), srv.RSS()
	res.PeakSinceStart = srv.ResetMaxRSS() != nil
	fmt.Fprintf(progress, "%d concurrent clients on the big customer's month for %v…\n", cfg.Clients, cfg.Duration)
	stop, err := startProfile(cfg.CPUProfile)
	if err != nil {
		return res, err
	}
	res.Concurrent, err = big.concurrent(ctx, srv.GRPCAddr, cfg.Clients, cfg.Duration)
	stop()
	res.PeakRSS = srv.MaxRSS()
	if err != nil {
		return res, err
	}
	if big.want != nil {
		res.BigAnswer = *big.want
	}
	if small.want != nil {
		res.SmallAnswer = *small.want
	}
	return res, errors.Join(big.failures(), small.failures())
}

// startProfile starts a CPU profile into path ("" none) and returns its stop.
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
