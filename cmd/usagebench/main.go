// Command usagebench measures usage ingestion end to end on a fresh
// database and prints records/s against two COPY baselines measured in the
// same run (see internal/usagebench):
//
//	go build -o bin/billingd ./cmd/billingd
//	go run ./cmd/usagebench -records 1000000 -clients 8 -billingd bin/billingd
//
// Without -billingd, billingd runs inside the harness (then -cpuprofile
// profiles it too, and the memory and CPU figures include the clients).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/billingd/billingd/internal/usagebench"
)

func main() {
	cfg := usagebench.Config{}
	flag.IntVar(&cfg.Records, "records", 1_000_000, "records per phase")
	flag.IntVar(&cfg.Clients, "clients", 8, "concurrent gRPC clients")
	flag.IntVar(&cfg.Batch, "batch", 5000, "records per stream message (at most 10000)")
	flag.IntVar(&cfg.Window, "window", 2, "unacknowledged messages per stream")
	flag.IntVar(&cfg.PoolConns, "pool-conns", 0, "billingd's database connections (0: pgx default, max(4, CPUs))")
	flag.StringVar(&cfg.AdminURL, "database-url", usagebench.DefaultAdminURL(), "PostgreSQL server to create the benchmark database on (any database of it)")
	flag.StringVar(&cfg.Billingd, "billingd", "", "billingd binary to benchmark as a subprocess (empty: billingd runs in this process)")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of this process during the gRPC phase to this file (billingd's only when in process)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the benchmark database")
	flag.StringVar(&cfg.CitusURL, "citus-url", "", "also run on a Citus cluster (its coordinator's postgres database, e.g. $BILLINGD_TEST_CITUS_URL), after the single node, and print both")
	flag.BoolVar(&cfg.SequentialKeys, "sequential-keys", false, `keys "bench-<i>" in load order instead of collector-shaped ones (a faster baseline b)`)
	flag.Parse()
	if cfg.Records <= 0 || cfg.Clients <= 0 || cfg.Batch <= 0 || cfg.Batch > 10000 || cfg.Window <= 0 {
		fmt.Fprintln(os.Stderr, "usagebench: -records, -clients, -window must be positive and -batch in 1..10000")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	single := cfg
	single.CitusURL = ""
	res, err := usagebench.Run(ctx, single, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "usagebench:", err)
		os.Exit(1)
	}
	res.Print(os.Stdout, single)
	if cfg.CitusURL == "" {
		return
	}
	fmt.Println()
	cit, err := usagebench.Run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "usagebench on Citus:", err)
		os.Exit(1)
	}
	cit.Print(os.Stdout, cfg)
	fmt.Printf("\nCitus / single node, same run: ingest (c) %.2f×, rollups current %.2f×, resend (d) time %.2f×, month query %.2f×\n",
		res.Ingest.Seconds()/cit.Ingest.Seconds(), res.RollupsCurrent.Seconds()/cit.RollupsCurrent.Seconds(),
		cit.Resend.Seconds()/res.Resend.Seconds(), cit.MonthQuery.Seconds()/res.MonthQuery.Seconds())
}
