// Command billingd is the billing API server. It serves gRPC and the REST
// gateway on PostgreSQL; with no --database-url it runs its own PostgreSQL
// in --data-dir.
//
//	billingd [serve] [flags]   run the server (default)
//	billingd migrate [flags]   apply database migrations and exit
//	billingd version           print the version
//
// The demo is a command of its own, cmd/billingd-demo (`make run`), so that
// this binary links no simulator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// A bill is a burst of short-lived decimals: at Go's default GOGC=100
	// billingd's small heap was collected so often that 50 concurrent
	// queries spent a sixth of its CPU marking it. 400 trades some memory
	// for that (docs/operations.md); GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "billingd:", err)
			os.Exit(1)
		}
	}
}

const usage = `Usage:
  billingd [serve] [flags]   run the server (the default command)
  billingd migrate [flags]   apply the database migrations and exit
  billingd version           print the version

The demo (a simulated month of vCenter usage, its bill and reports) is its
own command: make run, or go run ./cmd/billingd-demo --help.

Every flag falls back to the environment variable BILLINGD_<FLAG> (upper
case, dashes as underscores, e.g. BILLINGD_DATABASE_URL); a flag given on
the command line wins.

Flags of serve and migrate:
`

// errDemoMoved answers `billingd demo`, which earlier versions had.
var errDemoMoved = errors.New("the demo is its own command now: make run, or go run ./cmd/billingd-demo")

func run(args []string, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate":
	case "version":
		fmt.Println("billingd", version)
		return nil
	case "demo":
		return errDemoMoved
	default:
		return fmt.Errorf("unknown command %q: want serve, migrate or version (billingd --help)", cmd)
	}
	fs := flag.NewFlagSet("billingd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	cfg, err := config.Parse(fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (billingd --help)", fs.Arg(0))
	}
	log := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "migrate" {
		return app.Migrate(ctx, cfg, log)
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
