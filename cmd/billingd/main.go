// Command billingd is the billing API server. It serves gRPC and the REST
// gateway on PostgreSQL; with no --database-url it runs its own PostgreSQL
// in --data-dir.
//
//	billingd [serve] [flags]   run the server (default)
//	billingd migrate [flags]   apply database migrations and exit
//	billingd demo [flags]      run the demo: a simulated month, its bill and reports (see demo.go)
//	billingd version           print the version
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
	"syscall"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "billingd:", err)
			os.Exit(1)
		}
	}
}

func run(args []string, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "version" || args[0] == "demo") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Println("billingd", version)
		return nil
	}
	if cmd == "demo" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runDemo(ctx, args, os.Stdout, stderr)
	}
	fs := flag.NewFlagSet("billingd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.Parse(fs, args)
	if err != nil {
		return err
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
