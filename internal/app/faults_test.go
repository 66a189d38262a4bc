package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// dbProxy forwards TCP connections to PostgreSQL until Cut, which closes
// the listener and every forwarded connection: to billingd the database
// has become unreachable (open connections break, new ones are refused).
type dbProxy struct {
	lis    net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

// newDBProxy returns a fresh test database's URL, pointed at a proxy.
func newDBProxy(t *testing.T) (*dbProxy, string) {
	t.Helper()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{lis: lis, target: u.Host}
	go p.serve()
	t.Cleanup(p.Cut)
	u.Host = lis.Addr().String()
	return p, u.String()
}

func (p *dbProxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// Cut makes the database unreachable for good.
func (p *dbProxy) Cut() {
	p.lis.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutageIsUnavailable cuts billingd off its database and calls
// every RPC: each must answer Unavailable (HTTP 503), as docs/api.md
// promises, never Internal. With API keys on, the key lookup is the first
// thing to fail; with auth off, every service's own read or write path is.
// A collector that reconnects its stream after the first failure gets
// Unavailable again.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, auth := range []bool{true, false} {
		proxy, dbURL := newDBProxy(t)
		s := startSecured(t, func(c *config.Config) {
			c.DatabaseURL, c.Auth, c.RateLimit = dbURL, auth, 0
		})
		proxy.Cut()
		who := admin
		if !auth {
			who = noKey
		}
		for _, c := range rpcCases() {
			callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := c.call(callCtx, s.conn(t, who))
			cancel()
			if status.Code(err) != codes.Unavailable {
				t.Errorf("auth %v: %s: %v, want Unavailable", auth, c.method, err)
			}
		}
		stream := billingv1.NewUsageServiceClient(s.conn(t, who))
		for attempt := 1; attempt <= 2; attempt++ {
			st, err := stream.IngestUsage(ctx)
			if err == nil {
				err = st.Send(&billingv1.IngestUsageRequest{Records: []*billingv1.UsageRecord{{
					IdempotencyKey: "outage", CustomerId: "cust-a", MetricKey: "vm.vcpu", Quantity: "1", Time: at(2026, 10, 3),
				}}})
			}
			if err == nil {
				_, err = st.Recv()
			}
			if status.Code(err) != codes.Unavailable {
				t.Errorf("auth %v: IngestUsage stream, attempt %d: %v, want Unavailable", auth, attempt, err)
			}
		}
		for _, path := range []string{"/v1/products", "/v1/customers/cust-a", "/v1/usage?customerId=cust-a",
			"/v1/reports/billing?format=csv&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z"} {
			if code, body := s.rest(t, who, http.MethodGet, path, nil); code != http.StatusServiceUnavailable {
				t.Errorf("auth %v: GET %s = %d %v, want 503", auth, path, code, body)
			}
		}
	}
}

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestOutageCauseIsLoggedNotSent: the driver's error behind an Unavailable
// reaches billingd's log, where an operator needs it, and never the client.
func TestOutageCauseIsLoggedNotSent(t *testing.T) {
	t.Parallel()
	proxy, dbURL := newDBProxy(t)
	cfg := config.Default()
	cfg.DatabaseURL, cfg.Auth = dbURL, false
	var logs lockedBuffer
	a := launchLogged(t, cfg, &logs)
	proxy.Cut()
	_, err := billingv1.NewCatalogServiceClient(dial(t, a)).ListProducts(t.Context(), &billingv1.ListProductsRequest{})
	if status.Code(err) != codes.Unavailable || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("ListProducts: %v, want Unavailable without the driver's text", err)
	}
	if log := logs.String(); !strings.Contains(log, "cause=") || !strings.Contains(log, "127.0.0.1") {
		t.Errorf("the log lacks the driver's error:\n%s", log)
	}
}
