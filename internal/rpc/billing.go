package rpc

import (
	"context"
	"log/slog"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/money"
	"github.com/billingd/billingd/internal/period"
	"github.com/billingd/billingd/internal/rating"
)

// BillingServer serves billing.v1.BillingService: queries, stats and
// closed periods (those answer Unimplemented when built without a period
// service).
type BillingServer struct {
	billingv1.UnimplementedBillingServiceServer
	svc     *billing.Service
	periods *period.Service
	log     *slog.Logger
}

var _ billingv1.BillingServiceServer = (*BillingServer)(nil)

// NewBillingServer returns the gRPC server of billing queries over store.
// It takes the store rather than a built service so that wiring it is one
// line; NewBillingServerFor takes a service.
func NewBillingServer(store billing.Store, log *slog.Logger) *BillingServer {
	return NewBillingServerFor(billing.New(store, billing.Config{}), log)
}

// NewBillingServerFor returns the gRPC server of billing queries over svc
// and, when periods is not nil, of closed periods.
func NewBillingServerFor(svc *billing.Service, log *slog.Logger, periods ...*period.Service) *BillingServer {
	s := &BillingServer{svc: svc, log: log}
	if len(periods) > 0 {
		s.periods = periods[0]
	}
	return s
}

func (s *BillingServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

// streamChunk is the most lines one StreamBilling message carries.
const streamChunk = 1000

func (s *BillingServer) QueryBilling(ctx context.Context, req *billingv1.QueryBillingRequest) (*billingv1.QueryBillingResponse, error) {
	if req.GetQuery() == nil {
		return nil, s.err(ctx, required("query"))
	}
	q := queryFromProto(req.GetQuery())
	p, err := s.svc.QueryPage(ctx, q, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.err(ctx, within("query", err))
	}
	out := &billingv1.QueryBillingResponse{
		Lines: make([]*billingv1.BillingLine, len(p.Lines)), NextPageToken: p.NextPageToken,
		Totals: totalsToProto(p.Totals), UnpricedUsage: unpricedToProto(p.Unpriced),
	}
	for i := range p.Lines {
		out.Lines[i] = lineToProto(&p.Lines[i], q.GroupByDimensions)
	}
	return out, nil
}

func (s *BillingServer) StreamBilling(req *billingv1.StreamBillingRequest, stream grpc.ServerStreamingServer[billingv1.StreamBillingResponse]) error {
	ctx := stream.Context()
	if req.GetQuery() == nil {
		return s.err(ctx, required("query"))
	}
	q := queryFromProto(req.GetQuery())
	sum, err := s.svc.QueryFunc(ctx, q, func(lines []billing.Line) error {
		for len(lines) > 0 {
			n := min(len(lines), streamChunk)
			msg := &billingv1.StreamBillingResponse{Lines: make([]*billingv1.BillingLine, n)}
			for i := range n {
				msg.Lines[i] = lineToProto(&lines[i], q.GroupByDimensions)
			}
			if err := stream.Send(msg); err != nil {
				return err
			}
			lines = lines[n:]
		}
		return nil
	})
	if err != nil {
		return s.err(ctx, within("query", err))
	}
	return stream.Send(&billingv1.StreamBillingResponse{Totals: totalsToProto(sum.Totals), UnpricedUsage: unpricedToProto(sum.Unpriced)})
}

func (s *BillingServer) GetBillingStats(ctx context.Context, req *billingv1.GetBillingStatsRequest) (*billingv1.GetBillingStatsResponse, error) {
	st, err := s.svc.Stats(ctx, req.GetMonth(), req.GetCustomerId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetBillingStatsResponse{
		Month: st.Month, ProductAtoms: st.ProductAtoms, ProductsRated: st.ProductsRated,
		BillingResults: st.BillingResults, UsageRecords: st.UsageRecords, Customers: st.Customers,
	}, nil
}

// queryFromProto maps a BillingQuery; GRANULARITY_UNSPECIFIED means the
// whole period, as the API documents. The enums share their numbers with
// the engine's.
func queryFromProto(q *billingv1.BillingQuery) billing.Query {
	out := billing.Query{
		CustomerIDs: q.GetCustomerIds(), Month: q.GetMonth(), From: fromTS(q.GetStartTime()), To: fromTS(q.GetEndTime()),
		Granularity: rating.Granularity(q.GetGranularity()), GroupByDimensions: q.GetGroupByDimensions(),
	}
	if out.Granularity == rating.GranularityUnspecified {
		out.Granularity = rating.GranularityPeriod
	}
	for _, k := range q.GetGroupBy() {
		out.GroupBy = append(out.GroupBy, rating.GroupKey(k))
	}
	return out
}

func lineToProto(l *billing.Line, dims []string) *billingv1.BillingLine {
	out := &billingv1.BillingLine{
		CustomerId: l.CustomerID, OrganisationId: l.Organisation(), VdcId: l.VDC(), Site: l.Site(), ResourceId: l.ResourceID,
		ProductGroupId: l.GroupID, ProductId: l.ProductID, MetricKey: l.MetricKey,
		Model: billingv1.BillingModel(l.Model), Granularity: billingv1.Granularity(l.Granularity),
		StartTime: ts(l.Start), EndTime: ts(l.End),
		Quantity: l.Quantity.String(), Unit: l.Unit, UnitPrice: l.UnitPrice.String(),
		Amount: amountString(l.Currency, l.Amount), Currency: l.Currency,
		PriceListId: l.PriceListID, PriceId: l.PriceID, CampaignId: l.CampaignID, ContractId: l.ContractID,
		Description: l.Description, AdjustedMonth: l.AdjustedMonth, AdjustmentCause: billingv1.AdjustmentCause(l.AdjustmentCause),
	}
	for _, d := range dims {
		if v, ok := l.Dimensions[d]; ok {
			if out.Dimensions == nil {
				out.Dimensions = map[string]string{}
			}
			out.Dimensions[d] = v
		}
	}
	return out
}

// amountString renders an amount with its currency's number of decimals
// ("30.00"); it is rounded to them already.
func amountString(currency string, d decimal.Decimal) string {
	if c, ok := money.Lookup(currency); ok {
		return c.Format(d)
	}
	return d.String()
}

func totalsToProto(ts []billing.Total) []*billingv1.CurrencyTotal {
	out := make([]*billingv1.CurrencyTotal, len(ts))
	for i, t := range ts {
		out[i] = &billingv1.CurrencyTotal{Currency: t.Currency, Amount: amountString(t.Currency, t.Amount), LineCount: int64(t.Lines)}
	}
	return out
}

func unpricedToProto(us []rating.UnpricedUsage) []*billingv1.UnpricedUsage {
	out := make([]*billingv1.UnpricedUsage, len(us))
	for i, u := range us {
		out[i] = &billingv1.UnpricedUsage{
			CustomerId: u.CustomerID, ProductId: u.ProductID, StartTime: ts(u.Start), EndTime: ts(u.End), Quantity: u.Quantity.String(),
			MetricKey: u.MetricKey, ResourceId: u.ResourceID, Dimensions: u.Dimensions, Reason: unpricedReason(u.Reason),
			ContractId: u.ContractID, Description: u.Description(),
		}
	}
	return out
}

func unpricedReason(r rating.UnpricedReason) billingv1.UnpricedReason {
	switch r {
	case rating.UnpricedNoPrice:
		return billingv1.UnpricedReason_UNPRICED_REASON_NO_PRICE
	case rating.UnpricedNoProduct:
		return billingv1.UnpricedReason_UNPRICED_REASON_NO_PRODUCT
	case rating.UnpricedNoMatchingProduct:
		return billingv1.UnpricedReason_UNPRICED_REASON_NO_MATCHING_PRODUCT
	}
	return billingv1.UnpricedReason_UNPRICED_REASON_UNSPECIFIED
}
