// Package config holds billingd's settings, their defaults, validation and
// binding to command-line flags with environment-variable fallbacks. It
// must not start anything.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
)

// Config is everything billingd needs to start.
type Config struct {
	GRPCAddr        string        // gRPC listener, e.g. ":9090"
	HTTPAddr        string        // REST gateway, OpenAPI, health and metrics, e.g. ":8080"
	DatabaseURL     string        // PostgreSQL URL; empty runs the embedded cluster in DataDir
	DataDir         string        // where the embedded cluster lives
	PGBinDir        string        // PostgreSQL server binaries for the embedded cluster; empty = search
	LogLevel        slog.Level    // debug, info, warn, error
	LogFormat       string        // "text" or "json"
	ShutdownTimeout time.Duration // how long in-flight requests get on SIGTERM
	Demo            bool          // load the demo catalog, price lists and contract at start
	Console         bool          // serve the web console at /console/

	// Access and limits (bound in security.go).
	Auth              bool          // --auth=on|off: require API keys; off runs every caller as admin
	BootstrapAdminKey string        // a secret that is made an admin key at start
	TLSCert, TLSKey   string        // PEM files; both set serve gRPC and REST over TLS
	ClientCA          string        // PEM CA bundle: client certificates it signed authenticate as collectors (gRPC)
	RateLimit         float64       // calls per second per key; 0 = unlimited
	RateBurst         int           // calls a key may make at once before RateLimit applies
	RPCTimeout        time.Duration // default deadline of a unary call without one; 0 = none
	MaxBodyBytes      int64         // largest REST request body
}

// Default returns the configuration billingd runs with when nothing is set.
func Default() Config {
	return Config{
		GRPCAddr:        ":9090",
		HTTPAddr:        ":8080",
		DataDir:         "data",
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		ShutdownTimeout: 15 * time.Second,
		Console:         true,
		Auth:            true,
		RateLimit:       100,
		RateBurst:       200,
		RPCTimeout:      time.Minute,
		MaxBodyBytes:    16 << 20,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ name, addr string }{{"grpc-addr", c.GRPCAddr}, {"http-addr", c.HTTPAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: %w", a.name, a.addr, err))
		}
	}
	if c.GRPCAddr == c.HTTPAddr && !strings.HasSuffix(c.GRPCAddr, ":0") {
		errs = append(errs, fmt.Errorf("--grpc-addr and --http-addr must differ (both %q)", c.GRPCAddr))
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required when --database-url is empty (embedded PostgreSQL)"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database-url must be a postgres:// URL"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout must be positive"))
	}
	errs = append(errs, c.validateSecurity()...)
	return errors.Join(errs...)
}

// Bind registers every setting on fs. Each flag falls back to the
// environment variable BILLINGD_<FLAG> (upper case, dashes as underscores)
// when the flag is not given; call ApplyEnv after fs.Parse.
func (c *Config) Bind(fs *flag.FlagSet) {
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "REST gateway, /openapi.json, /healthz, /readyz and /metrics listen address")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL; empty runs an embedded PostgreSQL in --data-dir")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory of the embedded PostgreSQL")
	fs.StringVar(&c.PGBinDir, "pg-bin-dir", c.PGBinDir, "directory with PostgreSQL server binaries (initdb, postgres); empty searches the usual places")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "load a demo catalog, price lists, campaign and contract at start (kept if present)")
	fs.BoolVar(&c.Console, "console", c.Console, "serve the web console (a client of the REST API) at /console/")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests on SIGTERM")
	c.bindSecurity(fs)
}

// ApplyEnv sets every flag that was not given on the command line from its
// environment variable, so flags win over the environment.
func ApplyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := lookup(EnvName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// EnvName is the environment variable of a flag: database-url → BILLINGD_DATABASE_URL.
func EnvName(flagName string) string {
	return "BILLINGD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse binds, parses args, applies the environment and validates.
func Parse(fs *flag.FlagSet, args []string) (Config, error) {
	c := Default()
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := ApplyEnv(fs, os.LookupEnv); err != nil {
		return c, err
	}
	return c, c.Validate()
}
