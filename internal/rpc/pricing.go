package rpc

import (
	"context"
	"fmt"
	"log/slog"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/pricing"
)

// PricingServer serves billing.v1.PricingService.
type PricingServer struct {
	billingv1.UnimplementedPricingServiceServer
	svc *pricing.Service
	log *slog.Logger
}

var _ billingv1.PricingServiceServer = (*PricingServer)(nil)

// NewPricingServer returns the gRPC server of price lists, prices, campaigns and contracts.
func NewPricingServer(svc *pricing.Service, log *slog.Logger) *PricingServer {
	return &PricingServer{svc: svc, log: log}
}

func (s *PricingServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

func (s *PricingServer) CreatePriceList(ctx context.Context, req *billingv1.CreatePriceListRequest) (*billingv1.CreatePriceListResponse, error) {
	l, err := s.svc.CreatePriceList(ctx, pricing.CreatePriceListInput{PriceList: priceListFromProto(req.GetPriceList()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("price_list", err))
	}
	return &billingv1.CreatePriceListResponse{PriceList: priceListToProto(l)}, nil
}

func (s *PricingServer) GetPriceList(ctx context.Context, req *billingv1.GetPriceListRequest) (*billingv1.GetPriceListResponse, error) {
	l, err := s.svc.GetPriceList(ctx, req.GetPriceListId())
	if err := access.CheckOwner(ctx, l.CustomerID, err); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetPriceListResponse{PriceList: priceListToProto(l)}, nil
}

func (s *PricingServer) ListPriceLists(ctx context.Context, req *billingv1.ListPriceListsRequest) (*billingv1.ListPriceListsResponse, error) {
	ls, next, err := s.svc.ListPriceLists(ctx, pricing.ListPriceListsParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
		CustomerID: req.GetCustomerId(), DefaultOnly: req.GetDefaultOnly(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListPriceListsResponse{NextPageToken: next}
	for _, l := range ls {
		out.PriceLists = append(out.PriceLists, priceListToProto(l))
	}
	return out, nil
}

func (s *PricingServer) UpdatePriceList(ctx context.Context, req *billingv1.UpdatePriceListRequest) (*billingv1.UpdatePriceListResponse, error) {
	if req.GetPriceList() == nil {
		return nil, s.err(ctx, required("price_list"))
	}
	l, err := s.svc.UpdatePriceList(ctx, pricing.UpdatePriceListInput{PriceList: priceListFromProto(req.GetPriceList()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("price_list", err))
	}
	return &billingv1.UpdatePriceListResponse{PriceList: priceListToProto(l)}, nil
}

func (s *PricingServer) DeletePriceList(ctx context.Context, req *billingv1.DeletePriceListRequest) (*billingv1.DeletePriceListResponse, error) {
	if err := s.svc.DeletePriceList(ctx, req.GetPriceListId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeletePriceListResponse{}, nil
}

func (s *PricingServer) CreatePrice(ctx context.Context, req *billingv1.CreatePriceRequest) (*billingv1.CreatePriceResponse, error) {
	var v apperr.Invalid
	p := priceFromProto(&v, req.GetPrice())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("price", err))
	}
	p.PriceListID = req.GetPriceListId() // the parent comes from the request path
	p, err := s.svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: p, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, withinPath("price", err, "price_list_id"))
	}
	return &billingv1.CreatePriceResponse{Price: priceToProto(p)}, nil
}

func (s *PricingServer) GetPrice(ctx context.Context, req *billingv1.GetPriceRequest) (*billingv1.GetPriceResponse, error) {
	if err := s.checkListOwner(ctx, req.GetPriceListId()); err != nil {
		return nil, s.err(ctx, err)
	}
	p, err := s.svc.GetPrice(ctx, req.GetPriceListId(), req.GetPriceId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetPriceResponse{Price: priceToProto(p)}, nil
}

func (s *PricingServer) ListPrices(ctx context.Context, req *billingv1.ListPricesRequest) (*billingv1.ListPricesResponse, error) {
	if err := s.checkListOwner(ctx, req.GetPriceListId()); err != nil {
		return nil, s.err(ctx, err)
	}
	ps, next, err := s.svc.ListPrices(ctx, pricing.ListPricesParams{
		PriceListID: req.GetPriceListId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), ProductID: req.GetProductId(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListPricesResponse{NextPageToken: next}
	for _, p := range ps {
		out.Prices = append(out.Prices, priceToProto(p))
	}
	return out, nil
}

func (s *PricingServer) UpdatePrice(ctx context.Context, req *billingv1.UpdatePriceRequest) (*billingv1.UpdatePriceResponse, error) {
	if req.GetPrice() == nil {
		return nil, s.err(ctx, required("price"))
	}
	var v apperr.Invalid
	p := priceFromProto(&v, req.GetPrice())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("price", err))
	}
	p, err := s.svc.UpdatePrice(ctx, pricing.UpdatePriceInput{Price: p, UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("price", err))
	}
	return &billingv1.UpdatePriceResponse{Price: priceToProto(p)}, nil
}

func (s *PricingServer) DeletePrice(ctx context.Context, req *billingv1.DeletePriceRequest) (*billingv1.DeletePriceResponse, error) {
	if err := s.svc.DeletePrice(ctx, req.GetPriceListId(), req.GetPriceId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeletePriceResponse{}, nil
}

func (s *PricingServer) CreateCampaign(ctx context.Context, req *billingv1.CreateCampaignRequest) (*billingv1.CreateCampaignResponse, error) {
	var v apperr.Invalid
	c := campaignFromProto(&v, req.GetCampaign())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("campaign", err))
	}
	c, err := s.svc.CreateCampaign(ctx, pricing.CreateCampaignInput{Campaign: c, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("campaign", err))
	}
	return &billingv1.CreateCampaignResponse{Campaign: campaignToProto(c)}, nil
}

func (s *PricingServer) GetCampaign(ctx context.Context, req *billingv1.GetCampaignRequest) (*billingv1.GetCampaignResponse, error) {
	c, err := s.svc.GetCampaign(ctx, req.GetCampaignId())
	if err := access.CheckOwner(ctx, c.CustomerID, err); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetCampaignResponse{Campaign: campaignToProto(c)}, nil
}

func (s *PricingServer) ListCampaigns(ctx context.Context, req *billingv1.ListCampaignsRequest) (*billingv1.ListCampaignsResponse, error) {
	cs, next, err := s.svc.ListCampaigns(ctx, pricing.ListCampaignsParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), CustomerID: req.GetCustomerId(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListCampaignsResponse{NextPageToken: next}
	for _, c := range cs {
		out.Campaigns = append(out.Campaigns, campaignToProto(c))
	}
	return out, nil
}

func (s *PricingServer) UpdateCampaign(ctx context.Context, req *billingv1.UpdateCampaignRequest) (*billingv1.UpdateCampaignResponse, error) {
	if req.GetCampaign() == nil {
		return nil, s.err(ctx, required("campaign"))
	}
	var v apperr.Invalid
	c := campaignFromProto(&v, req.GetCampaign())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("campaign", err))
	}
	c, err := s.svc.UpdateCampaign(ctx, pricing.UpdateCampaignInput{Campaign: c, UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("campaign", err))
	}
	return &billingv1.UpdateCampaignResponse{Campaign: campaignToProto(c)}, nil
}

func (s *PricingServer) DeleteCampaign(ctx context.Context, req *billingv1.DeleteCampaignRequest) (*billingv1.DeleteCampaignResponse, error) {
	if err := s.svc.DeleteCampaign(ctx, req.GetCampaignId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteCampaignResponse{}, nil
}

func (s *PricingServer) CreateContract(ctx context.Context, req *billingv1.CreateContractRequest) (*billingv1.CreateContractResponse, error) {
	var v apperr.Invalid
	c := contractFromProto(&v, req.GetContract())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("contract", err))
	}
	c, err := s.svc.CreateContract(ctx, pricing.CreateContractInput{Contract: c, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("contract", err))
	}
	return &billingv1.CreateContractResponse{Contract: contractToProto(c)}, nil
}

func (s *PricingServer) GetContract(ctx context.Context, req *billingv1.GetContractRequest) (*billingv1.GetContractResponse, error) {
	c, err := s.svc.GetContract(ctx, req.GetContractId())
	if err := access.CheckOwner(ctx, c.CustomerID, err); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetContractResponse{Contract: contractToProto(c)}, nil
}

func (s *PricingServer) ListContracts(ctx context.Context, req *billingv1.ListContractsRequest) (*billingv1.ListContractsResponse, error) {
	cs, next, err := s.svc.ListContracts(ctx, pricing.ListContractsParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), CustomerID: req.GetCustomerId(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListContractsResponse{NextPageToken: next}
	for _, c := range cs {
		out.Contracts = append(out.Contracts, contractToProto(c))
	}
	return out, nil
}

func (s *PricingServer) UpdateContract(ctx context.Context, req *billingv1.UpdateContractRequest) (*billingv1.UpdateContractResponse, error) {
	if req.GetContract() == nil {
		return nil, s.err(ctx, required("contract"))
	}
	var v apperr.Invalid
	c := contractFromProto(&v, req.GetContract())
	if err := v.Err(); err != nil {
		return nil, s.err(ctx, within("contract", err))
	}
	c, err := s.svc.UpdateContract(ctx, pricing.UpdateContractInput{Contract: c, UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("contract", err))
	}
	return &billingv1.UpdateContractResponse{Contract: contractToProto(c)}, nil
}

func (s *PricingServer) DeleteContract(ctx context.Context, req *billingv1.DeleteContractRequest) (*billingv1.DeleteContractResponse, error) {
	if err := s.svc.DeleteContract(ctx, req.GetContractId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteContractResponse{}, nil
}

func priceListFromProto(l *billingv1.PriceList) pricing.PriceList {
	return pricing.PriceList{ID: l.GetId(), DisplayName: l.GetDisplayName(), Currency: l.GetCurrency(), CustomerID: l.GetCustomerId()}
}

func priceListToProto(l pricing.PriceList) *billingv1.PriceList {
	return &billingv1.PriceList{
		Id: l.ID, DisplayName: l.DisplayName, Currency: l.Currency, CustomerId: l.CustomerID,
		CreateTime: ts(l.CreateTime), UpdateTime: ts(l.UpdateTime),
	}
}

// priceFromProto reports malformed decimals on v with paths inside the price.
func priceFromProto(v *apperr.Invalid, p *billingv1.Price) pricing.Price {
	out := pricing.Price{
		PriceListID: p.GetPriceListId(), ID: p.GetId(), ProductID: p.GetProductId(),
		UnitPrice:   parseDecimal(v, "unit_price", p.GetUnitPrice()),
		Granularity: granularityFromProto(p.GetGranularity()),
		ValidFrom:   fromTS(p.GetValidFrom()), ValidTo: fromTS(p.GetValidTo()),
		TierMode:      tierModeFromProto(p.GetTierMode()),
		MinimumCharge: parseNullDecimal(v, "minimum_charge", p.GetMinimumCharge()),
	}
	for i, t := range p.GetTiers() {
		f := fmt.Sprintf("tiers[%d]", i)
		out.Tiers = append(out.Tiers, pricing.Tier{
			UpTo:      parseDecimal(v, f+".up_to", t.GetUpTo()),
			UnitPrice: parseDecimal(v, f+".unit_price", t.GetUnitPrice()),
		})
	}
	return out
}

// priceToProto leaves unit_price empty on a tiered price and up_to empty on
// the unbounded last tier, as the request rules expect them.
func priceToProto(p pricing.Price) *billingv1.Price {
	out := &billingv1.Price{
		Id: p.ID, PriceListId: p.PriceListID, ProductId: p.ProductID,
		UnitPrice:   p.UnitPrice.String(),
		Granularity: granularityToProto(p.Granularity),
		ValidFrom:   ts(p.ValidFrom), ValidTo: ts(p.ValidTo),
		TierMode:      tierModeToProto(p.TierMode),
		MinimumCharge: nullDecimalString(p.MinimumCharge),
		CreateTime:    ts(p.CreateTime), UpdateTime: ts(p.UpdateTime),
	}
	if len(p.Tiers) > 0 {
		out.UnitPrice = optionalDecimalString(p.UnitPrice)
	}
	for _, t := range p.Tiers {
		out.Tiers = append(out.Tiers, &billingv1.Tier{UpTo: optionalDecimalString(t.UpTo), UnitPrice: t.UnitPrice.String()})
	}
	return out
}

func campaignFromProto(v *apperr.Invalid, c *billingv1.Campaign) pricing.Campaign {
	out := pricing.Campaign{
		ID: c.GetId(), DisplayName: c.GetDisplayName(), CustomerID: c.GetCustomerId(), Currency: c.GetCurrency(),
		ValidFrom: fromTS(c.GetValidFrom()), ValidTo: fromTS(c.GetValidTo()), Priority: c.GetPriority(),
	}
	for i, e := range c.GetEntries() {
		f := fmt.Sprintf("entries[%d]", i)
		out.Entries = append(out.Entries, pricing.CampaignEntry{
			ProductID:       e.GetProductId(),
			UnitPrice:       parseNullDecimal(v, f+".unit_price", e.GetUnitPrice()),
			DiscountPercent: parseNullDecimal(v, f+".discount_percent", e.GetDiscountPercent()),
		})
	}
	return out
}

func campaignToProto(c pricing.Campaign) *billingv1.Campaign {
	out := &billingv1.Campaign{
		Id: c.ID, DisplayName: c.DisplayName, CustomerId: c.CustomerID, Currency: c.Currency,
		ValidFrom: ts(c.ValidFrom), ValidTo: ts(c.ValidTo), Priority: c.Priority,
		CreateTime: ts(c.CreateTime), UpdateTime: ts(c.UpdateTime),
	}
	for _, e := range c.Entries {
		out.Entries = append(out.Entries, &billingv1.CampaignEntry{
			ProductId: e.ProductID, UnitPrice: nullDecimalString(e.UnitPrice), DiscountPercent: nullDecimalString(e.DiscountPercent),
		})
	}
	return out
}

func contractFromProto(v *apperr.Invalid, c *billingv1.Contract) pricing.Contract {
	return pricing.Contract{
		ID: c.GetId(), CustomerID: c.GetCustomerId(), ProductID: c.GetProductId(),
		Model:             contractModelFromProto(c.GetModel()),
		CommittedQuantity: parseDecimal(v, "committed_quantity", c.GetCommittedQuantity()),
		Fee:               parseDecimal(v, "fee", c.GetFee()),
		FeeGranularity:    granularityFromProto(c.GetFeeGranularity()),
		OverageUnitPrice:  parseNullDecimal(v, "overage_unit_price", c.GetOverageUnitPrice()),
		Currency:          c.GetCurrency(),
		StartTime:         fromTS(c.GetStartTime()), EndTime: fromTS(c.GetEndTime()),
		Proration: prorationFromProto(c.GetProration()),
	}
}

func contractToProto(c pricing.Contract) *billingv1.Contract {
	return &billingv1.Contract{
		Id: c.ID, CustomerId: c.CustomerID, ProductId: c.ProductID,
		Model:             contractModelToProto(c.Model),
		CommittedQuantity: c.CommittedQuantity.String(),
		Fee:               c.Fee.String(),
		FeeGranularity:    granularityToProto(c.FeeGranularity),
		OverageUnitPrice:  nullDecimalString(c.OverageUnitPrice),
		Currency:          c.Currency,
		StartTime:         ts(c.StartTime), EndTime: ts(c.EndTime),
		Proration:  prorationToProto(c.Proration),
		CreateTime: ts(c.CreateTime), UpdateTime: ts(c.UpdateTime),
	}
}
