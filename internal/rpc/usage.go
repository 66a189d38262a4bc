package rpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/usage"
)

// UsageServer serves billing.v1.UsageService.
type UsageServer struct {
	billingv1.UnimplementedUsageServiceServer
	svc *usage.Service
	log *slog.Logger
}

var _ billingv1.UsageServiceServer = (*UsageServer)(nil)

// NewUsageServer returns the gRPC server of usage ingestion.
func NewUsageServer(svc *usage.Service, log *slog.Logger) *UsageServer {
	return &UsageServer{svc: svc, log: log}
}

func (s *UsageServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

// IngestUsage stores the stream's batches one after another and
// acknowledges each after its commit, in order. A batch that cannot be
// stored ends the stream with its status (Unavailable when resending is the
// cure); the batches acknowledged before it stay stored, and the client
// resends from the first unacknowledged one.
//
// The next message is received while the current batch is being stored, so
// decoding overlaps the database work; at most two batches of a stream are
// in memory.
func (s *UsageServer) IngestUsage(stream grpc.BidiStreamingServer[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	type received struct {
		req *billingv1.IngestUsageRequest
		err error
	}
	next := make(chan received, 1)
	go func() {
		defer close(next)
		for {
			req, err := stream.Recv()
			select {
			case next <- received{req, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for in := range next {
		switch {
		case errors.Is(in.err, io.EOF):
			return nil
		case in.err != nil:
			return s.err(ctx, in.err) // a validation status, or the transport's error
		}
		res, err := s.svc.Ingest(ctx, inputsFromProto(in.req.GetRecords()))
		if err != nil {
			return s.err(ctx, err)
		}
		ack := &billingv1.IngestUsageResponse{
			Sequence: in.req.GetSequence(), Accepted: int32(res.Accepted), Duplicates: int32(res.Duplicates),
			Rejected: rejectionsToProto(res.Rejected),
		}
		if err := stream.Send(ack); err != nil {
			return err
		}
	}
	return nil
}

// BatchIngestUsage stores one batch and acknowledges it after the commit.
// With atomic set, a batch with any bad record stores nothing and is
// InvalidArgument naming every problem.
func (s *UsageServer) BatchIngestUsage(ctx context.Context, req *billingv1.BatchIngestUsageRequest) (*billingv1.BatchIngestUsageResponse, error) {
	ingest := s.svc.Ingest
	if req.GetAtomic() {
		ingest = s.svc.IngestAll
	}
	res, err := ingest(ctx, inputsFromProto(req.GetRecords()))
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.BatchIngestUsageResponse{
		Accepted: int32(res.Accepted), Duplicates: int32(res.Duplicates), Rejected: rejectionsToProto(res.Rejected),
	}, nil
}

// ListUsage pages through stored records in (start time, idempotency key) order.
func (s *UsageServer) ListUsage(ctx context.Context, req *billingv1.ListUsageRequest) (*billingv1.ListUsageResponse, error) {
	recs, next, err := s.svc.List(ctx, usage.ListParams{
		CustomerID: req.GetCustomerId(), MetricKey: req.GetMetricKey(), ResourceID: req.GetResourceId(),
		From: fromTS(req.GetStartTime()), To: fromTS(req.GetEndTime()),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListUsageResponse{NextPageToken: next, UsageRecords: make([]*billingv1.UsageRecord, 0, len(recs))}
	for _, r := range recs {
		out.UsageRecords = append(out.UsageRecords, usageRecordToProto(r))
	}
	return out, nil
}

func inputsFromProto(recs []*billingv1.UsageRecord) []usage.Input {
	out := make([]usage.Input, len(recs))
	for i, r := range recs {
		in := &out[i]
		*in = usage.Input{
			Key: r.GetIdempotencyKey(), CustomerID: r.GetCustomerId(), MetricKey: r.GetMetricKey(), Quantity: r.GetQuantity(),
			ResourceID: r.GetResourceId(), OrganisationID: r.GetOrganisationId(), VdcID: r.GetVdcId(),
			Site: r.GetSite(), Source: r.GetSource(), Dimensions: r.GetDimensions(),
		}
		decodeTime(in, "time", r.GetTime(), &in.Time)
		decodeTime(in, "start_time", r.GetStartTime(), &in.Start)
		decodeTime(in, "end_time", r.GetEndTime(), &in.End)
	}
	return out
}

// decodeTime sets *dst from a wire timestamp; one out of range (nanos
// outside [0, 1e9), years outside 1..9999) rejects the record.
func decodeTime(in *usage.Input, field string, t *timestamppb.Timestamp, dst *time.Time) {
	if t == nil || in.DecodeError != nil {
		return
	}
	if t.CheckValid() != nil {
		in.DecodeError = &usage.FieldError{Field: field, Reason: "is not a valid timestamp"}
		return
	}
	*dst = t.AsTime()
}

func rejectionsToProto(rs []usage.Rejection) []*billingv1.RecordRejection {
	out := make([]*billingv1.RecordRejection, len(rs))
	for i, r := range rs {
		out[i] = &billingv1.RecordRejection{Index: int32(r.Index), IdempotencyKey: r.Key, Field: r.Field, Reason: r.Reason}
	}
	return out
}

// usageRecordToProto sends a point record with time, an interval with
// start_time and end_time, as it was ingested.
func usageRecordToProto(r usage.Record) *billingv1.UsageRecord {
	out := &billingv1.UsageRecord{
		IdempotencyKey: r.Key, CustomerId: r.CustomerID, MetricKey: r.MetricKey, Quantity: r.Quantity.String(),
		ResourceId: r.ResourceID, OrganisationId: r.OrganisationID, VdcId: r.VdcID, Site: r.Site, Source: r.Source,
		Dimensions: r.Dimensions, ReceiveTime: ts(r.ReceiveTime),
	}
	if r.IsPoint() {
		out.Time = ts(r.Start)
	} else {
		out.StartTime, out.EndTime = ts(r.Start), ts(r.End)
	}
	return out
}
