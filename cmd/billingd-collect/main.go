// Command billingd-collect runs billingd's collectors: it polls the sources
// listed in its YAML configuration (vCenter, VMware Cloud Director, Veeam,
// Cohesity, Rubrik), consumes its queues (NATS JetStream, RabbitMQ), imports
// its static files (CSV, JSON), and pushes the usage to billingd's gRPC API.
//
//	billingd-collect --config collectors.yaml          run until SIGINT/SIGTERM
//	billingd-collect --config collectors.yaml --once   one poll of every source, push, exit
//
// Every flag can also be set with an environment variable, e.g.
// BILLINGD_COLLECT_CONFIG. See docs/collectors.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/cohesity"
	"github.com/billingd/billingd/internal/collector/queue"
	"github.com/billingd/billingd/internal/collector/rubrik"
	"github.com/billingd/billingd/internal/collector/static"
	"github.com/billingd/billingd/internal/collector/vcd"
	"github.com/billingd/billingd/internal/collector/vcenter"
	"github.com/billingd/billingd/internal/collector/veeam"
)

// builders lists the source types this binary knows.
var builders = map[string]collector.Builder{
	vcenter.Type:  vcenter.Build,
	vcd.Type:      vcd.Build,
	veeam.Type:    veeam.Build,
	cohesity.Type: cohesity.Build,
	rubrik.Type:   rubrik.Build,
	// feeds and files
	queue.NATSType:     queue.BuildNATS,
	queue.RabbitMQType: queue.BuildRabbitMQ,
	static.Type:        static.Build,
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "billingd-collect:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("billingd-collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "collectors.yaml", "YAML configuration `file` [BILLINGD_COLLECT_CONFIG]")
	once := fs.Bool("once", false, "poll every source once, push, and exit [BILLINGD_COLLECT_ONCE]")
	level := fs.String("log-level", "info", "debug, info, warn or error [BILLINGD_COLLECT_LOG_LEVEL]")
	format := fs.String("log-format", "text", "text or json [BILLINGD_COLLECT_LOG_FORMAT]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fromEnv(fs); err != nil {
		return err
	}
	log, err := newLogger(*level, *format, stderr)
	if err != nil {
		return err
	}
	cfg, err := collector.Load(*configPath)
	if err != nil {
		return err
	}
	scheds, err := cfg.Build(builders)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range scheds {
			if c, ok := s.Source.(io.Closer); ok {
				_ = c.Close()
			}
		}
	}()
	conn, err := cfg.Billingd.Dial()
	if err != nil {
		return fmt.Errorf("billingd %s: %w", cfg.Billingd.Address, err)
	}
	defer conn.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := cfg.Options()
	opts.Log, opts.Metrics = log, collector.NewMetrics(reg)
	r, err := collector.NewRunner(billingv1.NewUsageServiceClient(conn), scheds, opts)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *once {
		var errs []error
		for _, s := range scheds {
			name := s.Source.Name()
			if err := r.Poll(ctx, name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			if err := r.Flush(ctx, name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
		return errors.Join(errs...)
	}
	if cfg.MetricsAddr != "" {
		srv, err := serveMetrics(cfg.MetricsAddr, reg, log)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	log.Info("collecting", "sources", len(scheds), "billingd", cfg.Billingd.Address, "state_dir", cfg.StateDir)
	return r.Run(ctx)
}

// fromEnv sets every flag not given on the command line from
// BILLINGD_COLLECT_<FLAG>.
func fromEnv(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "BILLINGD_COLLECT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	return err
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func serveMetrics(addr string, g prometheus.Gatherer, log *slog.Logger) (*http.Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	return srv, nil
}
