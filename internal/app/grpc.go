package app

import (
	"log/slog"

	"buf.build/go/protovalidate"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/period"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rpc"
	"github.com/billingd/billingd/internal/rpc/codec"
	"github.com/billingd/billingd/internal/usage"
)

// maxMessageBytes bounds one gRPC message (a usage batch of 10,000 records
// is about 3 MiB in protobuf).
const maxMessageBytes = 16 << 20

// newGRPCServer builds the gRPC server with every billing.v1 service, the
// standard health service and reflection. Interceptors run in order:
// panic recovery, metrics, the default deadline, authentication and
// authorization (before validation, so an unauthenticated caller learns
// nothing from validation errors), then validation; denied and invalid
// requests are counted.
func newGRPCServer(db *database, reg prometheus.Registerer, log *slog.Logger, sec *security) (*grpc.Server, *health.Server, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, err
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	if err := reg.Register(metrics); err != nil {
		return nil, nil, err
	}
	srv := grpc.NewServer(
		codec.ServerOption(), // vtprotobuf where generated: usage batches decode in a third of the time
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.Creds(sec.creds),
		grpc.ChainUnaryInterceptor(rpc.RecoverUnary(log), metrics.UnaryServerInterceptor(), sec.timeouts, sec.auth.Unary(), rpc.ValidateUnary(validator)),
		grpc.ChainStreamInterceptor(rpc.RecoverStream(log), metrics.StreamServerInterceptor(), sec.auth.Stream(), rpc.ValidateStream(validator)),
	)

	// One service of each domain, shared by the servers that need it (the
	// report server reads product groups' names through the catalog service).
	catalogSvc := catalog.New(db.store.Catalog(), nil)
	customerSvc := customer.New(db.store.Customers(), nil)
	billingSvc := billing.New(db.store.Billing(), billing.Config{})
	billingv1.RegisterCatalogServiceServer(srv, rpc.NewCatalogServer(catalogSvc, log))
	billingv1.RegisterCustomerServiceServer(srv, rpc.NewCustomerServer(customerSvc, log))
	billingv1.RegisterPricingServiceServer(srv, rpc.NewPricingServer(pricing.New(db.store.Pricing(), nil), log))
	billingv1.RegisterUsageServiceServer(srv, rpc.NewUsageServer(usage.New(db.store.Usage(), nil), log))
	periodSvc := period.New(db.store.Periods(), billingSvc, nil)
	billingv1.RegisterBillingServiceServer(srv, rpc.NewBillingServerFor(billingSvc, log, periodSvc))
	billingv1.RegisterReportServiceServer(srv, rpc.NewReportServer(billingSvc, catalogSvc, "billingd", log))
	billingv1.RegisterAccessServiceServer(srv, rpc.NewAccessServer(sec.keys, log))

	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	metrics.InitializeMetrics(srv)
	return srv, hs, nil
}
