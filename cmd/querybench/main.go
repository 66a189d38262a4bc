// Command querybench measures a big customer's monthly bill through
// QueryBilling, single-client and under concurrent clients, on a fresh
// database with a month of one-record-per-resource-hour usage (issue 16's
// goals 1 and 2; see internal/querybench):
//
//	go build -o bin/billingd ./cmd/billingd
//	go run ./cmd/querybench -billingd bin/billingd
//
// It prints a table and a "goal …: met / not met" line per goal, and exits
// 1 only when the run failed (a setup error, a failed query, or a query
// whose total differed from the first), never for a missed goal.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/billingd/billingd/internal/querybench"
)

func main() {
	cfg := querybench.Default()
	flag.StringVar(&cfg.Billingd, "billingd", "", "billingd binary to benchmark as a subprocess (empty: billingd runs in this process, and its RSS includes the clients')")
	flag.StringVar(&cfg.AdminURL, "database-url", cfg.AdminURL, "PostgreSQL server to create the benchmark database on (any database of it)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the benchmark database")
	flag.StringVar(&cfg.Month, "month", cfg.Month, "month to load and query, YYYY-MM (UTC customers)")
	flag.IntVar(&cfg.Hours, "hours", 0, "hours of usage from the month's start (0: the whole month)")
	flag.IntVar(&cfg.BigVMs, "big-vms", cfg.BigVMs, "the big customer's VMs")
	flag.IntVar(&cfg.SmallVMs, "small-vms", cfg.SmallVMs, "the small customer's VMs")
	flag.IntVar(&cfg.LoadClients, "load-clients", cfg.LoadClients, "concurrent ingestion streams")
	flag.IntVar(&cfg.Warmups, "warmups", cfg.Warmups, "unmeasured queries per customer before the single-client ones")
	flag.IntVar(&cfg.Queries, "queries", cfg.Queries, "measured single-client queries per customer")
	flag.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients on the big customer's month")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the concurrent run here (billingd's only without -billingd)")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the concurrent clients start queries (running ones are waited for)")
	flag.Parse()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := querybench.Run(ctx, cfg, os.Stderr)
	if res.Concurrent.Clients > 0 { // every phase ran: print, even when queries failed
		res.Print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		os.Exit(1)
	}
}
