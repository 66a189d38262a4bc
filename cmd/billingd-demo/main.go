// Command billingd-demo is the demo behind `make run`: billingd on its
// embedded PostgreSQL, a month of vCenter usage measured by the real
// collector on a simulated vCenter (govmomi's vcsim), its bill and its
// reports; then it keeps serving until Ctrl-C.
//
// It is a command of its own, not `billingd demo`, so that the production
// server binary links neither the simulator nor the demo's estate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/demo"
	"github.com/billingd/billingd/internal/demo/sim"
)

// demoKeyFile keeps the demo's admin key beside the embedded PostgreSQL,
// so that the key printed by one `make run` still works at the next.
const demoKeyFile = "demo-admin-key"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "billingd-demo:", err)
		os.Exit(1)
	}
}

// run starts billingd on its embedded PostgreSQL with a simulated month of
// usage, prints its bill and writes its reports; then it keeps serving
// until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billingd-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "demo-out", "folder the five reports (csv, xlsx, pdf, json, xml) are written to")
	month := fs.String("month", "2026-10", "month to simulate, YYYY-MM in the demo customers' time zone ("+demo.TimeZone+")")
	days := fs.Int("days", 0, "simulate only the first N days of the month (0: all of it)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: billingd-demo [flags]   (make run ARGS='...')

Starts billingd (on its embedded PostgreSQL unless --database-url is set),
loads the demo catalog, price lists, campaigns and contract, runs the vCenter
collector against a simulated vCenter for a simulated month, prints the
month's bill, writes its reports and keeps serving until Ctrl-C.

With API keys on (the default) the demo uses --bootstrap-admin-key, or a key
it makes once and keeps in <data-dir>/demo-admin-key, and prints it.
Per-key rate limits are off unless --rate-limit is given.

Besides --out, --month and --days it takes every flag of billingd serve.

Flags:
`)
		fs.PrintDefaults()
	}
	cfg, err := config.Parse(fs, args)
	if err != nil {
		return err
	}
	if !given(fs, "log-level") {
		cfg.LogLevel = slog.LevelWarn // the demo's own output tells the story
	}
	if !given(fs, "rate-limit") {
		cfg.RateLimit = 0 // a month of hourly polls is thousands of calls in seconds
	}
	keyFile := ""
	if cfg.Auth && cfg.BootstrapAdminKey == "" {
		keyFile = filepath.Join(cfg.DataDir, demoKeyFile)
		if cfg.BootstrapAdminKey, err = demoKey(cfg.DataDir); err != nil {
			return err
		}
	}
	log := newLogger(cfg, stderr)

	fmt.Fprintln(stdout, "Starting billingd…")
	start := time.Now()
	a, err := app.New(ctx, cfg, log, app.WithStderr(stderr))
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()
	where := "PostgreSQL at --database-url"
	if cfg.DatabaseURL == "" {
		where = "embedded PostgreSQL in " + cfg.DataDir
	}
	fmt.Fprintf(stdout, "billingd is serving gRPC on %s and HTTP on %s (%s), started in %.1fs\n\n",
		a.GRPCAddr(), a.HTTPAddr(), where, time.Since(start).Seconds())

	dial := func(token string) (*grpc.ClientConn, error) {
		b := collector.BillingdConfig{Address: loopback(a.GRPCAddr()), Plaintext: cfg.TLSCert == "", CAFile: cfg.TLSCert}
		if cfg.Auth {
			b.Token = collector.NewSecret(token, "demo")
		}
		return b.Dial()
	}
	conn, err := dial(cfg.BootstrapAdminKey)
	if err != nil {
		return err
	}
	defer conn.Close()
	opts := sim.Options{Out: stdout, Live: isTerminal(stdout), Month: *month, Days: *days, ReportDir: *out,
		Log: log.With("component", "demo collector")}
	if cfg.Auth {
		opts.Dial = func(token string) (grpc.ClientConnInterface, error) { return dial(token) }
	}
	res, err := sim.Run(ctx, conn, opts)
	if err != nil {
		if ctx.Err() != nil {
			return <-ran
		}
		stopRun()
		return errors.Join(err, <-ran)
	}
	printTry(stdout, cfg, keyFile, a.GRPCAddr(), a.HTTPAddr(), res)
	return <-ran
}

// given reports whether a flag was set on the command line or in the
// environment.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	_, env := os.LookupEnv(config.EnvName(name))
	return set || env
}

// demoKey returns the demo's admin key, making it at the first run. The data
// directory is created as the embedded PostgreSQL would (0701: its
// postgres user must be able to enter it when billingd runs as root).
func demoKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, demoKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= access.MinBootstrapSecretLen {
			return k, nil
		}
	}
	if _, err := os.Stat(dataDir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dataDir, 0o701); err != nil {
			return "", err
		}
		_ = os.Chmod(dataDir, 0o701)
	}
	k, err := access.NewSecret()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo admin key: %w", err)
	}
	return k, nil
}

// printTry ends the demo with what to try against the running billingd.
func printTry(w io.Writer, cfg config.Config, keyFile, grpcAddr, httpAddr string, res sim.Result) {
	scheme, curl := "http", "curl -fsS"
	if cfg.TLSCert != "" {
		scheme, curl = "https", "curl -fsS --cacert "+cfg.TLSCert
	}
	base := scheme + "://" + loopback(httpAddr)
	auth := ""
	fmt.Fprintln(w)
	if cfg.Auth {
		from := "the --bootstrap-admin-key you gave"
		if keyFile != "" {
			from = "kept in " + keyFile + " for the next run"
		}
		fmt.Fprintf(w, "Admin API key (%s); send it as  authorization: Bearer <key>\n\n", from)
		fmt.Fprintf(w, "    export BILLINGD_API_KEY=%s\n\n", cfg.BootstrapAdminKey)
		auth = ` -H "authorization: Bearer $BILLINGD_API_KEY"`
	} else {
		fmt.Fprint(w, "API keys are off (--auth=off): every caller is admin.\n\n")
	}
	// The period as the demo billed it: the month by name (each customer's
	// own month), or the instants of a part of one (--days).
	from, to := res.From.UTC().Format(time.RFC3339), res.To.UTC().Format(time.RFC3339)
	query, report, ctl := "query.startTime="+from+"&query.endTime="+to, "from="+from+"&to="+to, "--from "+from+" --to "+to
	if m := res.Query.GetMonth(); m != "" {
		query, report, ctl = "query.month="+m, "month="+m, "--month "+m
	}
	fmt.Fprintf(w, "Try it while billingd runs:\n\n")
	fmt.Fprintf(w, "  %s%s %s/v1/products\n", curl, auth, base)
	fmt.Fprintf(w, "  %s%s '%s/v1/billing:query?%s&query.groupBy=GROUP_BY_CUSTOMER'\n", curl, auth, base, query)
	fmt.Fprintf(w, "  %s%s -OJ '%s/v1/reports/billing?customer=acme&%s&group_by=product&format=pdf'\n", curl, auth, base, report)
	fmt.Fprintf(w, "  %s %s/openapi.json\n", curl, base)
	fmt.Fprintf(w, "  %s %s/metrics | grep grpc_server_handled_total\n", curl, base)
	fmt.Fprintf(w, "  go run ./cmd/billingctl --addr %s bill %s --group-by customer,product\n", loopback(grpcAddr), ctl)
	if m := res.Query.GetMonth(); m != "" {
		fmt.Fprintf(w, "  go run ./examples/go-client --addr %s --month %s\n", loopback(grpcAddr), m)
	}
	fmt.Fprintf(w, "\nbillingd keeps running; stop it with Ctrl-C.\n")
}

// loopback turns a listen address such as :8080 or [::]:8080 into one a
// client on this machine can use.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
