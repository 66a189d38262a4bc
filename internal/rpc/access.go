package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/period"
	"github.com/billingd/billingd/internal/pricing"
)

// AccessServer serves billing.v1.AccessService: API keys and the audit trail.
type AccessServer struct {
	billingv1.UnimplementedAccessServiceServer
	svc *access.Service
	log *slog.Logger
}

var _ billingv1.AccessServiceServer = (*AccessServer)(nil)

// NewAccessServer returns the gRPC server of API keys and audit events.
func NewAccessServer(svc *access.Service, log *slog.Logger) *AccessServer {
	return &AccessServer{svc: svc, log: log}
}

func (s *AccessServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

func (s *AccessServer) CreateApiKey(ctx context.Context, req *billingv1.CreateApiKeyRequest) (*billingv1.CreateApiKeyResponse, error) {
	k, secret, err := s.svc.CreateKey(ctx, access.CreateKeyInput{Key: keyFromProto(req.GetApiKey()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("api_key", err))
	}
	return &billingv1.CreateApiKeyResponse{ApiKey: keyToProto(k), Secret: secret}, nil
}

func (s *AccessServer) GetApiKey(ctx context.Context, req *billingv1.GetApiKeyRequest) (*billingv1.GetApiKeyResponse, error) {
	k, err := s.svc.GetKey(ctx, req.GetApiKeyId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetApiKeyResponse{ApiKey: keyToProto(k)}, nil
}

func (s *AccessServer) ListApiKeys(ctx context.Context, req *billingv1.ListApiKeysRequest) (*billingv1.ListApiKeysResponse, error) {
	ks, next, err := s.svc.ListKeys(ctx, access.ListKeysParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), IncludeRevoked: req.GetIncludeRevoked(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListApiKeysResponse{NextPageToken: next}
	for _, k := range ks {
		out.ApiKeys = append(out.ApiKeys, keyToProto(k))
	}
	return out, nil
}

func (s *AccessServer) RevokeApiKey(ctx context.Context, req *billingv1.RevokeApiKeyRequest) (*billingv1.RevokeApiKeyResponse, error) {
	k, err := s.svc.RevokeKey(ctx, req.GetApiKeyId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.RevokeApiKeyResponse{ApiKey: keyToProto(k)}, nil
}

func (s *AccessServer) ListAuditEvents(ctx context.Context, req *billingv1.ListAuditEventsRequest) (*billingv1.ListAuditEventsResponse, error) {
	es, next, err := s.svc.ListAuditEvents(ctx, access.ListAuditEventsParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
		ResourceType: req.GetResourceType(), ResourceID: req.GetResourceId(), Actor: req.GetActor(),
		Start: fromTS(req.GetStartTime()), End: fromTS(req.GetEndTime()),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListAuditEventsResponse{NextPageToken: next}
	for _, e := range es {
		pe, err := auditEventToProto(e)
		if err != nil {
			return nil, s.err(ctx, err)
		}
		out.AuditEvents = append(out.AuditEvents, pe)
	}
	return out, nil
}

func keyFromProto(k *billingv1.ApiKey) access.Key {
	return access.Key{
		ID: k.GetId(), DisplayName: k.GetDisplayName(), Role: access.Role(k.GetRole()),
		CustomerID: k.GetCustomerId(), Sources: k.GetSources(), Sites: k.GetSites(),
		ExpireTime: fromTS(k.GetExpireTime()),
	}
}

func keyToProto(k access.Key) *billingv1.ApiKey {
	return &billingv1.ApiKey{
		Id: k.ID, DisplayName: k.DisplayName, Role: billingv1.Role(k.Role),
		CustomerId: k.CustomerID, Sources: k.Sources, Sites: k.Sites,
		ExpireTime: ts(k.ExpireTime), SecretPrefix: k.SecretPrefix,
		CreateTime: ts(k.CreateTime), RevokeTime: ts(k.RevokeTime),
	}
}

func auditEventToProto(e access.AuditEvent) (*billingv1.AuditEvent, error) {
	before, err := snapshotStruct(e.Before)
	if err != nil {
		return nil, err
	}
	after, err := snapshotStruct(e.After)
	if err != nil {
		return nil, err
	}
	return &billingv1.AuditEvent{
		Id: e.ID, Time: ts(e.Time), Actor: e.Actor, Action: e.Action,
		ResourceType: e.ResourceType, ResourceId: e.ResourceID,
		Before: before, After: after, RequestId: e.RequestID,
	}, nil
}

// snapshotStruct turns a stored snapshot (JSON) into a Struct; nil stays unset.
func snapshotStruct(v any) (*structpb.Struct, error) {
	raw, ok := v.(json.RawMessage)
	if !ok || raw == nil {
		return nil, nil
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("audit snapshot is not a JSON object: %w", err)
	}
	return st, nil
}

// AuditJSON encodes the domain value of an audit snapshot as the API shows
// the resource (protojson of its message, lowerCamel field names, every
// field present), so the trail reads like REST responses. The store calls it
// for every audit event (postgres.Store.SetAuditEncoder).
func AuditJSON(v any) ([]byte, error) {
	m, err := auditMessage(v)
	if err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
}

func auditMessage(v any) (proto.Message, error) {
	switch r := v.(type) {
	case catalog.Metric:
		return metricToProto(r), nil
	case catalog.ProductGroup:
		return groupToProto(r), nil
	case catalog.Product:
		return productToProto(r), nil
	case customer.Customer:
		return customerToProto(r), nil
	case customer.Organisation:
		return organisationToProto(r), nil
	case customer.Vdc:
		return vdcToProto(r), nil
	case pricing.PriceList:
		return priceListToProto(r), nil
	case pricing.Price:
		return priceToProto(r), nil
	case pricing.Campaign:
		return campaignToProto(r), nil
	case pricing.Contract:
		return contractToProto(r), nil
	case access.Key:
		return keyToProto(r), nil
	case billing.ClosedPeriod:
		return closedPeriodToProto(r), nil
	case period.Reopening:
		return &billingv1.ReopenPeriodRequest{CustomerId: r.CustomerID, Month: r.Month, Reason: r.Reason}, nil
	case proto.Message:
		return r, nil
	}
	return nil, fmt.Errorf("no audit encoding for %T", v)
}
