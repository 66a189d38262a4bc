package config

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("billingd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Default()
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != ":9090" || c.HTTPAddr != ":8080" || c.DatabaseURL != "" || c.LogLevel != slog.LevelInfo {
		t.Errorf("unexpected defaults: %+v", c)
	}
}

func TestEnvFallbackAndFlagPrecedence(t *testing.T) {
	env := map[string]string{
		"BILLINGD_DATABASE_URL": "postgres://env@db/billing",
		"BILLINGD_GRPC_ADDR":    ":7000",
		"BILLINGD_LOG_LEVEL":    "debug",
	}
	c, err := parse(t, []string{"--grpc-addr", ":7001"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://env@db/billing" {
		t.Errorf("DatabaseURL = %q, want it from the environment", c.DatabaseURL)
	}
	if c.GRPCAddr != ":7001" {
		t.Errorf("GRPCAddr = %q, want the flag to win over the environment", c.GRPCAddr)
	}
	if c.LogLevel != slog.LevelDebug {
		t.Errorf("LogLevel = %v, want debug", c.LogLevel)
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	_, err := parse(t, []string{"--grpc-addr", "nonsense", "--http-addr", "nonsense", "--log-format", "xml", "--database-url", "mysql://x"}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"--grpc-addr", "must differ", "--log-format", "postgres://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestBadEnvValueIsReported(t *testing.T) {
	_, err := parse(t, nil, map[string]string{"BILLINGD_SHUTDOWN_TIMEOUT": "soon"})
	if err == nil || !strings.Contains(err.Error(), "BILLINGD_SHUTDOWN_TIMEOUT") {
		t.Fatalf("err = %v, want it to name the variable", err)
	}
}
