// Command billingctl is the admin and query CLI of billingd: catalog and
// price lists from a file, API keys, billing queries, reports and usage
// import, all over billingd's public gRPC API.
//
// Exit codes: 0 success, 1 an error (billingd's answer or a local one, as
// one line on stderr), 2 a usage error (unknown command or flag, missing
// argument).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const usage = `billingctl: admin and query CLI of billingd (over its gRPC API)

Usage:
  billingctl [connection flags] <command> [flags] [arguments]

Commands:
  catalog load FILE     create or update metrics, product groups, products,
                        customers, price lists, prices, campaigns and contracts
                        from a YAML or JSON file; safe to run again
  catalog list          list metrics, product groups, products and price lists
  prices list LIST      list the prices of a price list
  keys create           create an API key and print its secret (shown once)
  keys list             list API keys
  keys revoke ID        revoke an API key at once
  bill                  rate a period and print its billing lines and totals
  report                download a billing report (pdf, xlsx, csv, json, xml)
  ingest FILE.csv       send usage records from a CSV file ("-" reads stdin)
  help [COMMAND]        show help (also: billingctl COMMAND --help)

Connection flags (before or after the command, before its arguments):
  --addr HOST:PORT      billingd's gRPC address (env BILLINGD_ADDR; default localhost:9090)
  --key SECRET          API key, sent as "authorization: Bearer SECRET" (env BILLINGD_API_KEY;
                        prefer the variable: other users of the machine can see flags)
  --tls                 use TLS with the system's root certificates (env BILLINGD_TLS=1)
  --ca FILE             use TLS and trust this PEM CA bundle (env BILLINGD_CA)
  --timeout DURATION    deadline of each call (default 2m)

Exit codes: 0 success, 1 error (printed as one line), 2 usage error.

Examples:
  export BILLINGD_API_KEY=bk_...
  billingctl catalog load catalog.yaml
  billingctl bill --month 2026-10 --customer acme --group-by product
  billingctl report --month 2026-10 --customer acme --format pdf -o acme-2026-10.pdf
  billingctl keys create --name "ERP export" --role reader
  billingctl ingest usage.csv
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// usageError is a mistake in how billingctl was called: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env holds what every command gets: I/O and the connection settings.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	conn   connFlags
}

// command is one subcommand: its flags are bound on fs, then run gets the
// remaining arguments.
type command struct {
	name, args, summary string
	help                string // more text shown by --help, after the flags
	flags               func(fs *flag.FlagSet) func(e *env, args []string) error
}

func commands() []command {
	return []command{
		catalogLoadCommand(), catalogListCommand(), pricesListCommand(),
		keysCreateCommand(), keysListCommand(), keysRevokeCommand(),
		billCommand(), reportCommand(), ingestCommand(),
	}
}

// run is billingctl without the process around it; it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	e.conn.defaults(lookup)
	top := flag.NewFlagSet("billingctl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	e.conn.bind(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return fail(stderr, usagef("%v", err))
	}
	args = top.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "help" {
		if len(args) == 1 {
			fmt.Fprint(stdout, usage)
			return 0
		}
		args = append(args[1:], "--help")
	}
	cmd, rest, ok := find(args)
	if !ok {
		return fail(stderr, usagef("unknown command %q (see billingctl help)", strings.Join(args[:min(2, len(args))], " ")))
	}
	fs := flag.NewFlagSet("billingctl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.conn.bind(fs)
	do := cmd.flags(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(stdout, cmd, fs)
			return 0
		}
		return fail(stderr, usagef("%s: %v (see billingctl %s --help)", cmd.name, err, cmd.name))
	}
	if err := do(e, fs.Args()); err != nil {
		var u usageError
		if errors.As(err, &u) {
			err = usagef("%s: %s (see billingctl %s --help)", cmd.name, u.msg, cmd.name)
		}
		return fail(stderr, err)
	}
	return 0
}

// find matches the longest command name ("keys create") at the start of args.
func find(args []string) (command, []string, bool) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], true
		}
	}
	return command{}, nil, false
}

func commandHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\n%s\n", strings.TrimSpace("Usage: billingctl "+c.name+" [flags] "+c.args), c.summary)
	var b strings.Builder
	fs.SetOutput(&b)
	fs.VisitAll(func(f *flag.Flag) {
		if connFlagNames[f.Name] {
			return
		}
		_, use := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s\n    \t%s", f.Name, strings.ReplaceAll(use, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
	if c.help != "" {
		fmt.Fprintf(w, "\n%s", c.help)
	}
	fmt.Fprint(w, "\nConnection flags: --addr, --key, --tls, --ca, --timeout (see billingctl help).\n")
}

// fail prints err as one line and returns its exit code.
func fail(w io.Writer, err error) int {
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintln(w, "billingctl: "+u.msg)
		return 2
	}
	fmt.Fprintln(w, "billingctl: "+describe(err))
	return 1
}

// describe turns an error into one line: a gRPC status as its code, its
// message and the field violations of its google.rpc.BadRequest.
func describe(err error) string {
	var se interface {
		error
		GRPCStatus() *status.Status
	}
	if !errors.As(err, &se) {
		return oneLine(err.Error())
	}
	st := se.GRPCStatus()
	msg := st.Message()
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if !strings.Contains(msg, v.GetDescription()) {
					fields = append(fields, v.GetField()+": "+v.GetDescription())
				}
			}
		}
	}
	line := st.Code().String() + ": " + msg
	if len(fields) > 0 {
		line += " [" + strings.Join(fields, "; ") + "]"
	}
	if prefix := strings.TrimSuffix(err.Error(), se.Error()); prefix != err.Error() && prefix != "" {
		line = strings.TrimSuffix(prefix, ": ") + ": " + line
	}
	switch st.Code() {
	case codes.Unavailable:
		line += " (is billingd running at --addr / BILLINGD_ADDR?)"
	case codes.Unauthenticated:
		line += " (give an API key with --key or BILLINGD_API_KEY)"
	}
	return oneLine(line)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// connFlags say how to reach billingd.
type connFlags struct {
	addr, key, ca string
	tls           bool
	timeout       time.Duration
}

var connFlagNames = map[string]bool{"addr": true, "key": true, "tls": true, "ca": true, "timeout": true}

func (c *connFlags) defaults(lookup func(string) (string, bool)) {
	c.addr, c.timeout = "localhost:9090", 2*time.Minute
	if v, ok := lookup("BILLINGD_ADDR"); ok && v != "" {
		c.addr = v
	}
	c.key, _ = lookup("BILLINGD_API_KEY")
	c.ca, _ = lookup("BILLINGD_CA")
	if v, _ := lookup("BILLINGD_TLS"); v == "1" || strings.EqualFold(v, "true") {
		c.tls = true
	}
}

func (c *connFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", c.addr, "billingd's gRPC address")
	fs.StringVar(&c.key, "key", c.key, "API key")
	fs.BoolVar(&c.tls, "tls", c.tls, "use TLS")
	fs.StringVar(&c.ca, "ca", c.ca, "PEM CA bundle to trust (implies --tls)")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "deadline of each call")
}

// dial connects lazily: nothing is sent until the first call.
func (e *env) dial() (*grpc.ClientConn, error) {
	c := e.conn
	creds := insecure.NewCredentials()
	if c.tls || c.ca != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.ca != "" {
			pem, err := os.ReadFile(c.ca)
			if err != nil {
				return nil, fmt.Errorf("--ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca %s: no PEM certificate in it", c.ca)
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20))}
	if c.key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{key: c.key, secure: c.tls || c.ca != ""}))
	}
	return grpc.NewClient(c.addr, opts...)
}

// call is the context of one RPC: the command's context with --timeout.
func (e *env) call() (context.Context, context.CancelFunc) {
	if e.conn.timeout <= 0 {
		return context.WithCancel(e.ctx)
	}
	return context.WithTimeout(e.ctx, e.conn.timeout)
}

type bearer struct {
	key    string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

// RequireTransportSecurity is false so that a key works over plaintext to
// a billingd on loopback, as `make run` serves it.
func (b bearer) RequireTransportSecurity() bool { return false }
