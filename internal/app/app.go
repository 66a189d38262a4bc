package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/demo"
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
	selfConn *grpc.ClientConn
}

// New opens the database, applies migrations and binds both listeners, so
// that when it returns the ports are known and billingd is ready to serve.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.release(context.WithoutCancel(ctx))
		}
	}()
	if a.db, err = openDatabase(ctx, cfg, log); err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a.grpcSrv, a.health, err = newGRPCServer(a.db, reg, log); err != nil {
		return nil, err
	}
	if a.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen --grpc-addr: %w", err)
	}
	if a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen --http-addr: %w", err)
	}
	// The gateway calls billingd's own gRPC listener, so REST requests pass
	// the same interceptors (validation, metrics, later auth) as gRPC ones.
	if a.selfConn, err = grpc.NewClient(dialTarget(a.grpcLis.Addr()),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
	); err != nil {
		return nil, err
	}
	if a.httpSrv, err = newHTTPServer(ctx, a.selfConn, a.db.store.Ping, reg, log); err != nil {
		return nil, err
	}
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

// HTTPAddr is the bound HTTP address (useful with ":0").
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Run serves gRPC and HTTP until ctx ends or a server fails, then shuts down
// gracefully: in-flight requests get cfg.ShutdownTimeout to finish, then the
// database (and the embedded cluster) are closed.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- a.grpcSrv.Serve(a.grpcLis) }()
	go func() {
		if err := a.httpSrv.Serve(a.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go a.watchDatabase(watchCtx)
	a.log.Info("billingd serving", "grpc", a.GRPCAddr(), "http", a.HTTPAddr(), "embedded_postgres", a.db.cluster != nil)
	if a.cfg.Demo {
		if err := demo.Load(ctx, a.selfConn); err != nil {
			a.log.Error("loading the demo data failed", "err", err)
		} else {
			a.log.Info("demo data loaded", "try", "curl http://"+dialTarget(a.httpLis.Addr())+"/v1/products")
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

// release closes what New opened, in reverse order.
func (a *App) release(ctx context.Context) error {
	if a.selfConn != nil {
		_ = a.selfConn.Close()
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
