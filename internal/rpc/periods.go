package rpc

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/billing"
)

func (s *BillingServer) noPeriods() error {
	return status.Error(codes.Unimplemented, "closed periods are not served by this server")
}

func (s *BillingServer) ClosePeriod(ctx context.Context, req *billingv1.ClosePeriodRequest) (*billingv1.ClosePeriodResponse, error) {
	if s.periods == nil {
		return nil, s.noPeriods()
	}
	p, err := s.periods.Close(ctx, req.GetCustomerId(), req.GetMonth())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.ClosePeriodResponse{ClosedPeriod: closedPeriodToProto(p)}, nil
}

func (s *BillingServer) ReopenPeriod(ctx context.Context, req *billingv1.ReopenPeriodRequest) (*billingv1.ReopenPeriodResponse, error) {
	if s.periods == nil {
		return nil, s.noPeriods()
	}
	if err := s.periods.Reopen(ctx, req.GetCustomerId(), req.GetMonth(), req.GetReason()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.ReopenPeriodResponse{}, nil
}

func (s *BillingServer) ListClosedPeriods(ctx context.Context, req *billingv1.ListClosedPeriodsRequest) (*billingv1.ListClosedPeriodsResponse, error) {
	if s.periods == nil {
		return nil, s.noPeriods()
	}
	ps, next, err := s.periods.List(ctx, req.GetCustomerId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListClosedPeriodsResponse{ClosedPeriods: make([]*billingv1.ClosedPeriod, len(ps)), NextPageToken: next}
	for i, p := range ps {
		out.ClosedPeriods[i] = closedPeriodToProto(p)
	}
	return out, nil
}

func closedPeriodToProto(p billing.ClosedPeriod) *billingv1.ClosedPeriod {
	return &billingv1.ClosedPeriod{
		CustomerId: p.CustomerID, Month: p.Month, CloseTime: ts(p.CloseTime), ClosedBy: p.ClosedBy,
		Totals: totalsToProto(p.Totals), StartTime: ts(p.From), EndTime: ts(p.To), LateUsageRecords: p.LateRecords,
	}
}
