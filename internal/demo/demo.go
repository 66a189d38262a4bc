// Package demo is the demo's data, through billingd's public gRPC API only:
// Load creates a small, realistic VMware-provider catalog, price lists, a
// campaign and a contract. It is an API client only: it never touches the
// database, and billingd calls Load at start with --demo. The simulated
// month (vcsim, collectors, the bill and reports) is package demo/sim,
// which only cmd/billingd-demo links, so the server binary carries no
// simulator.
package demo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// Epoch is when the demo's prices start.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// step is one create call of Load.
type step struct {
	what string
	call func() error
}

// Load creates the demo data. Anything that exists already is left as it
// is, so Load can run at every start.
func Load(ctx context.Context, conn grpc.ClientConnInterface) error {
	_, err := LoadCounting(ctx, conn)
	return err
}

// LoadCounting is Load that also counts the objects it created (0: all
// were there already).
func LoadCounting(ctx context.Context, conn grpc.ClientConnInterface) (created int, err error) {
	cat := billingv1.NewCatalogServiceClient(conn)
	cus := billingv1.NewCustomerServiceClient(conn)
	pri := billingv1.NewPricingServiceClient(conn)
	var steps []step
	add := func(what string, call func() error) { steps = append(steps, step{what, call}) }

	for _, m := range metrics {
		add("metric "+m.GetKey(), func() error {
			_, err := cat.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: m})
			return err
		})
	}
	for _, g := range groups {
		add("product group "+g.GetId(), func() error {
			_, err := cat.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: g})
			return err
		})
	}
	for _, p := range products {
		add("product "+p.GetId(), func() error {
			_, err := cat.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: p})
			return err
		})
	}
	for _, c := range customers {
		add("customer "+c.GetId(), func() error {
			_, err := cus.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: c})
			return err
		})
	}
	add("organisation acme/acme-prod", func() error {
		_, err := cus.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "acme", Organisation: &billingv1.Organisation{Id: "acme-prod", DisplayName: "ACME production"}})
		return err
	})
	add("vdc acme/acme-prod/ams1", func() error {
		_, err := cus.CreateVdc(ctx, &billingv1.CreateVdcRequest{CustomerId: "acme", OrganisationId: "acme-prod", Vdc: &billingv1.Vdc{Id: "ams1", DisplayName: "Amsterdam 1"}})
		return err
	})
	add("default price list", func() error {
		_, err := pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "default-eur", DisplayName: "Default EUR", Currency: "EUR"}})
		return err
	})
	add("acme price list", func() error {
		_, err := pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "acme-eur", DisplayName: "ACME EUR", Currency: "EUR", CustomerId: "acme"}})
		return err
	})
	for _, p := range defaultPrices {
		add("default price "+p.id, func() error { return createPrice(ctx, pri, "default-eur", p) })
	}
	for _, p := range acmePrices {
		add("acme price "+p.id, func() error { return createPrice(ctx, pri, "acme-eur", p) })
	}
	for _, c := range campaigns {
		add("campaign "+c.GetId(), func() error {
			_, err := pri.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: c})
			return err
		})
	}
	add("contract acme storage gold", func() error {
		_, err := pri.CreateContract(ctx, &billingv1.CreateContractRequest{Contract: &billingv1.Contract{
			Id: "acme-gold-2026", CustomerId: "acme", ProductId: "storage-gold",
			Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED_OVERAGE, CommittedQuantity: "1000",
			Fee: "120.00", FeeGranularity: billingv1.Granularity_GRANULARITY_MONTH, OverageUnitPrice: "0.16",
			Currency: "EUR", StartTime: timestamppb.New(Epoch), Proration: billingv1.Proration_PRORATION_DAILY,
		}})
		return err
	})

	for _, s := range steps {
		err := s.call()
		switch {
		case err == nil:
			created++
		case status.Code(err) != codes.AlreadyExists:
			return created, fmt.Errorf("demo: %s: %w", s.what, err)
		}
	}
	return created, nil
}

type price struct {
	id, product, unitPrice string
	granularity            billingv1.Granularity
	minimumCharge          string // per month; "" for none
}

func createPrice(ctx context.Context, c billingv1.PricingServiceClient, list string, p price) error {
	_, err := c.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: list, Price: &billingv1.Price{
		Id: p.id, ProductId: p.product, UnitPrice: p.unitPrice, Granularity: p.granularity, ValidFrom: timestamppb.New(Epoch),
		MinimumCharge: p.minimumCharge,
	}})
	return err
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
