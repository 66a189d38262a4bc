package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/console"
	"github.com/billingd/billingd/internal/demo"
	"github.com/billingd/billingd/internal/rpc"
)

// App is a started billingd: listeners bound, database migrated. Run
// serves until its context ends.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	db       *database
	grpcLis  net.Listener
	httpLis  net.Listener
	grpcSrv  *grpc.Server
	health   *health.Server
	httpSrv  *http.Server
	selfConn *grpc.ClientConn // the REST gateway's in-process connection
	sysConn  *grpc.ClientConn // billingd's own calls (the demo loader), as access.System
	sec      *security
	stderr   io.Writer
	// bodyTimeout bounds how long a REST client may take to send a body.
	bodyTimeout time.Duration
}

// Option changes how New builds an App.
type Option func(*App)

// WithStderr sets where the secret of a newly made bootstrap admin key is
// printed (default os.Stderr).
func WithStderr(w io.Writer) Option { return func(a *App) { a.stderr = w } }

// defaultBodyTimeout is how long a REST client may take to send a request
// body (a stream's body: between two reads).
const defaultBodyTimeout = 30 * time.Second

// WithBodyTimeout sets how long a REST client may take to send a request
// body (default 30 s); tests shorten it.
func WithBodyTimeout(d time.Duration) Option { return func(a *App) { a.bodyTimeout = d } }

// New opens the database, applies migrations and binds both listeners, so
// that when it returns the ports are known and billingd is ready to serve.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, stderr: os.Stderr, bodyTimeout: defaultBodyTimeout}
	for _, o := range opts {
		o(a)
	}
	defer func() {
		if err != nil {
			a.release(context.WithoutCancel(ctx))
		}
	}()
	if a.db, err = openDatabase(ctx, cfg, log); err != nil {
		return nil, err
	}
	a.db.store.SetAuditEncoder(rpc.AuditJSON)
	a.db.store.SetLogger(log)
	if a.sec, err = newSecurity(ctx, cfg, a.db, log, a.stderr); err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(a.db.store.Collectors()...) // the rollup worker's drains and failures
	if a.grpcSrv, a.health, err = newGRPCServer(a.db, reg, log, a.sec); err != nil {
		return nil, err
	}
	if a.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen --grpc-addr: %w", err)
	}
	if a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen --http-addr: %w", err)
	}
	// The gateway calls the gRPC server over an in-process connection, so
	// REST requests pass the same interceptors (validation, metrics, auth,
	// limits) as gRPC ones, without a second TLS hop when TLS is on.
	if a.selfConn, err = a.sec.gateway.dial(); err != nil {
		return nil, err
	}
	if a.sysConn, err = a.sec.system.dial(); err != nil {
		return nil, err
	}
	if a.httpSrv, err = newHTTPServer(ctx, a.selfConn, a.db.store.Ping, reg, log, cfg.MaxBodyBytes, a.bodyTimeout, a.sec.auth, cfg.Console); err != nil {
		return nil, err
	}
	a.httpSrv.TLSConfig = a.sec.httpTLS
	return a, nil
}

// dialTarget turns a listener address such as [::]:9090 into one the
// gateway can dial on loopback.
func dialTarget(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(addr.String())
		return "127.0.0.1:" + port
	}
	return tcp.String()
}

// GRPCAddr is the bound gRPC address (useful with ":0").
func (a *App) GRPCAddr() string { return a.grpcLis.Addr().String() }

// ConsoleURL is the web console's address on loopback, or "" when
// --console=false.
func (a *App) ConsoleURL() string {
	if !a.cfg.Console {
		return ""
	}
	scheme := "http"
	if a.sec.httpTLS != nil {
		scheme = "https"
	}
	return scheme + "://" + dialTarget(a.httpLis.Addr()) + console.Prefix
}

// HTTPAddr is the bound HTTP address (useful with ":0").
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Run serves gRPC and HTTP until ctx ends or a server fails, then shuts down
// gracefully: in-flight requests get cfg.ShutdownTimeout to finish, then the
// database (and the embedded cluster) are closed.
func (a *App) Run(ctx context.Context) error {
	// Read before serving: net/http fills in TLSConfig for HTTP/2 while it
	// serves, so reading it later races.
	useTLS := a.httpSrv.TLSConfig != nil
	errc := make(chan error, 4)
	go func() { errc <- a.grpcSrv.Serve(a.grpcLis) }()
	go func() { errc <- a.grpcSrv.Serve(a.sec.gateway) }()
	go func() { errc <- a.grpcSrv.Serve(a.sec.system) }()
	go func() {
		serve := a.httpSrv.Serve
		if useTLS {
			serve = func(l net.Listener) error { return a.httpSrv.ServeTLS(l, "", "") }
		}
		if err := serve(a.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go a.watchDatabase(watchCtx)
	a.log.Info("billingd serving", "grpc", a.GRPCAddr(), "http", a.HTTPAddr(), "embedded_postgres", a.db.cluster != nil,
		"tls", useTLS, "auth", a.cfg.Auth)
	if a.cfg.Demo {
		if err := demo.Load(ctx, a.sysConn); err != nil {
			a.log.Error("loading the demo data failed", "err", err)
		} else {
			a.log.Info("demo data loaded", "try", a.tryCommand(useTLS))
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	a.shutdown(shutdownCtx)
	return errors.Join(runErr, a.release(shutdownCtx))
}

// shutdown stops accepting work and waits for in-flight calls, up to ctx.
func (a *App) shutdown(ctx context.Context) {
	a.health.Shutdown()
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.httpSrv.Shutdown(ctx) })
	wg.Go(func() {
		done := make(chan struct{})
		go func() { a.grpcSrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			a.grpcSrv.Stop()
		}
	})
	wg.Wait()
}

// tryCommand is a curl command line that lists the demo's products.
func (a *App) tryCommand(useTLS bool) string {
	scheme, flags := "http", ""
	if useTLS {
		scheme, flags = "https", "--cacert <ca.pem> "
	}
	if a.cfg.Auth {
		flags += "-H 'authorization: Bearer <API key>' "
	}
	return "curl " + flags + scheme + "://" + dialTarget(a.httpLis.Addr()) + "/v1/products"
}

// release closes what New opened, in reverse order.
func (a *App) release(ctx context.Context) error {
	for _, c := range []*grpc.ClientConn{a.sysConn, a.selfConn} {
		if c != nil {
			_ = c.Close()
		}
	}
	if a.sec != nil {
		_ = a.sec.gateway.Close()
		_ = a.sec.system.Close()
	}
	for _, l := range []net.Listener{a.grpcLis, a.httpLis} {
		if l != nil {
			_ = l.Close()
		}
	}
	if a.db != nil {
		return a.db.close(ctx)
	}
	return nil
}

// watchDatabase keeps the gRPC health status in step with the database, so
// load balancers using gRPC health checks see what /readyz sees.
func (a *App) watchDatabase(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		st := healthpb.HealthCheckResponse_SERVING
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := a.db.store.Ping(pingCtx); err != nil && ctx.Err() == nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		cancel()
		a.health.SetServingStatus("", st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
