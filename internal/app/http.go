package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/gen/openapiv2"
	"github.com/billingd/billingd/internal/console"
	"github.com/billingd/billingd/internal/gateway"
)

// gatewayServices are the REST registrations, one per gRPC service.
var gatewayServices = []gateway.RegisterFunc{
	billingv1.RegisterCatalogServiceHandler,
	billingv1.RegisterCustomerServiceHandler,
	billingv1.RegisterPricingServiceHandler,
	billingv1.RegisterUsageServiceHandler,
	billingv1.RegisterBillingServiceHandler,
	billingv1.RegisterReportServiceHandler,
	billingv1.RegisterAccessServiceHandler,
}

func newHTTPServer(ctx context.Context, conn *grpc.ClientConn, ready func(context.Context) error, g prometheus.Gatherer, log *slog.Logger, maxBody int64, withConsole bool) (*http.Server, error) {
	h, err := gateway.New(ctx, gateway.Config{
		Conn: conn, Services: gatewayServices, OpenAPI: openapiv2.Spec,
		Ready: ready, Gatherer: g, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if withConsole {
		// The console is static files; its data comes from /v1/ like any
		// other client's, with the user's key.
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.Handle("/console", console.Handler())
		mux.Handle(console.Prefix, console.Handler())
		h = mux
	}
	return &http.Server{
		Handler:           limitBody(h, maxBody),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, nil
}

// limitBody refuses a REST request body larger than max: 413 at once when
// Content-Length says so, else the gateway's read fails at max bytes and it
// answers 400 naming the limit. gRPC messages have their own limit
// (maxMessageBytes).
func limitBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			gateway.WriteStatus(w, http.StatusRequestEntityTooLarge, status.Newf(codes.ResourceExhausted,
				"request body of %d bytes is larger than the limit of %d bytes (--max-body-bytes)", r.ContentLength, max))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), max: max}
		}
		h.ServeHTTP(w, r)
	})
}

// limitedBody names the limit when a body without Content-Length exceeds it.
type limitedBody struct {
	io.ReadCloser
	max int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = fmt.Errorf("request body is larger than the limit of %d bytes (--max-body-bytes)", b.max)
	}
	return n, err
}
