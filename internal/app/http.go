package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/gen/openapiv2"
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

func newHTTPServer(ctx context.Context, conn *grpc.ClientConn, ready func(context.Context) error, g prometheus.Gatherer, log *slog.Logger) (*http.Server, error) {
	h, err := gateway.New(ctx, gateway.Config{
		Conn: conn, Services: gatewayServices, OpenAPI: openapiv2.Spec,
		Ready: ready, Gatherer: g, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, nil
}
