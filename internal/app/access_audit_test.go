package app_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/config"
)

// change is one kind of resource put through create, update and delete.
type change struct {
	kind, id string // resource_type and resource_id of its audit events
	field    string // the field the update changes, as JSON names it
	from, to string
	create   func(ctx context.Context) error
	update   func(ctx context.Context) error
	delete   func(ctx context.Context) error
}

// TestAuditTrailOfEveryChange: each create, update and delete of every kind
// of resource leaves exactly one audit event with the actor, the request id
// and the resource before and after; rejected changes leave none.
func TestAuditTrailOfEveryChange(t *testing.T) {
	t.Parallel()
	s := startSecured(t, func(c *config.Config) { c.RateLimit = 0 })
	conn := s.conn(t, admin)
	cat := billingv1.NewCatalogServiceClient(conn)
	cus := billingv1.NewCustomerServiceClient(conn)
	pri := billingv1.NewPricingServiceClient(conn)
	acc := billingv1.NewAccessServiceClient(conn)
	e := func(_ any, err error) error { return err }

	changes := []change{
		{"metric", "aud.metric", "description", "", "counted", func(ctx context.Context) error {
			return e(cat.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{Key: "aud.metric", Unit: "x", Aggregation: billingv1.Aggregation_AGGREGATION_SUM}}))
		}, func(ctx context.Context) error {
			return e(cat.UpdateMetric(ctx, &billingv1.UpdateMetricRequest{Metric: &billingv1.Metric{Key: "aud.metric", Description: "counted"}, UpdateMask: mask("description")}))
		}, func(ctx context.Context) error {
			return e(cat.DeleteMetric(ctx, &billingv1.DeleteMetricRequest{MetricKey: "aud.metric"}))
		}},
		{"product_group", "aud-group", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(cat.CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "aud-group", DisplayName: "Audit"}}))
		}, func(ctx context.Context) error {
			return e(cat.UpdateProductGroup(ctx, &billingv1.UpdateProductGroupRequest{ProductGroup: &billingv1.ProductGroup{Id: "aud-group", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(cat.DeleteProductGroup(ctx, &billingv1.DeleteProductGroupRequest{ProductGroupId: "aud-group"}))
		}},
		{"product", "aud-product", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(cat.CreateProduct(ctx, &billingv1.CreateProductRequest{Product: &billingv1.Product{Id: "aud-product", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "Audit"}}))
		}, func(ctx context.Context) error {
			return e(cat.UpdateProduct(ctx, &billingv1.UpdateProductRequest{Product: &billingv1.Product{Id: "aud-product", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(cat.DeleteProduct(ctx, &billingv1.DeleteProductRequest{ProductId: "aud-product"}))
		}},
		{"customer", "aud-cust", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(cus.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "aud-cust", DisplayName: "Audit"}}))
		}, func(ctx context.Context) error {
			return e(cus.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: &billingv1.Customer{Id: "aud-cust", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(cus.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "aud-cust"}))
		}},
		{"organisation", "cust-a/aud-org", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(cus.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "cust-a", Organisation: &billingv1.Organisation{Id: "aud-org", DisplayName: "Audit"}}))
		}, func(ctx context.Context) error {
			return e(cus.UpdateOrganisation(ctx, &billingv1.UpdateOrganisationRequest{Organisation: &billingv1.Organisation{CustomerId: "cust-a", Id: "aud-org", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(cus.DeleteOrganisation(ctx, &billingv1.DeleteOrganisationRequest{CustomerId: "cust-a", OrganisationId: "aud-org"}))
		}},
		{"vdc", "cust-a/a-org/aud-vdc", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(cus.CreateVdc(ctx, &billingv1.CreateVdcRequest{CustomerId: "cust-a", OrganisationId: "a-org", Vdc: &billingv1.Vdc{Id: "aud-vdc", DisplayName: "Audit"}}))
		}, func(ctx context.Context) error {
			return e(cus.UpdateVdc(ctx, &billingv1.UpdateVdcRequest{Vdc: &billingv1.Vdc{CustomerId: "cust-a", OrganisationId: "a-org", Id: "aud-vdc", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(cus.DeleteVdc(ctx, &billingv1.DeleteVdcRequest{CustomerId: "cust-a", OrganisationId: "a-org", VdcId: "aud-vdc"}))
		}},
		{"price_list", "aud-list", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(pri.CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: &billingv1.PriceList{Id: "aud-list", DisplayName: "Audit", Currency: "USD"}}))
		}, func(ctx context.Context) error {
			return e(pri.UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{PriceList: &billingv1.PriceList{Id: "aud-list", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(pri.DeletePriceList(ctx, &billingv1.DeletePriceListRequest{PriceListId: "aud-list"}))
		}},
		{"price", "default-eur/aud-price", "unitPrice", "0.5", "0.75", func(ctx context.Context) error {
			return e(pri.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default-eur", Price: &billingv1.Price{
				Id: "aud-price", ProductId: "vcpu", UnitPrice: "0.5", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2020, 1, 1), ValidTo: at(2021, 1, 1),
			}}))
		}, func(ctx context.Context) error {
			return e(pri.UpdatePrice(ctx, &billingv1.UpdatePriceRequest{Price: &billingv1.Price{PriceListId: "default-eur", Id: "aud-price", UnitPrice: "0.75"}, UpdateMask: mask("unit_price")}))
		}, func(ctx context.Context) error {
			return e(pri.DeletePrice(ctx, &billingv1.DeletePriceRequest{PriceListId: "default-eur", PriceId: "aud-price"}))
		}},
		{"campaign", "aud-camp", "displayName", "Audit", "Audited", func(ctx context.Context) error {
			return e(pri.CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: &billingv1.Campaign{
				Id: "aud-camp", DisplayName: "Audit", Currency: "EUR", ValidFrom: at(2040, 1, 1), ValidTo: at(2040, 2, 1),
				Entries: []*billingv1.CampaignEntry{{ProductId: "vcpu", DiscountPercent: "3"}},
			}}))
		}, func(ctx context.Context) error {
			return e(pri.UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{Campaign: &billingv1.Campaign{Id: "aud-camp", DisplayName: "Audited"}, UpdateMask: mask("display_name")}))
		}, func(ctx context.Context) error {
			return e(pri.DeleteCampaign(ctx, &billingv1.DeleteCampaignRequest{CampaignId: "aud-camp"}))
		}},
		{"contract", "aud-con", "fee", "1", "2.5", func(ctx context.Context) error {
			return e(pri.CreateContract(ctx, &billingv1.CreateContractRequest{Contract: &billingv1.Contract{
				Id: "aud-con", CustomerId: "cust-a", ProductId: "vcpu", Model: billingv1.ContractModel_CONTRACT_MODEL_COMMITTED,
				CommittedQuantity: "1", Fee: "1", FeeGranularity: billingv1.Granularity_GRANULARITY_MONTH,
				Currency: "EUR", StartTime: at(2040, 1, 1), Proration: billingv1.Proration_PRORATION_NONE,
			}}))
		}, func(ctx context.Context) error {
			return e(pri.UpdateContract(ctx, &billingv1.UpdateContractRequest{Contract: &billingv1.Contract{Id: "aud-con", Fee: "2.5"}, UpdateMask: mask("fee")}))
		}, func(ctx context.Context) error {
			return e(pri.DeleteContract(ctx, &billingv1.DeleteContractRequest{ContractId: "aud-con"}))
		}},
	}

	adminID := ""
	ks, err := acc.ListApiKeys(t.Context(), &billingv1.ListApiKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks.GetApiKeys() {
		if strings.HasPrefix(k.GetId(), "bootstrap-") {
			adminID = k.GetId()
		}
	}
	if adminID == "" {
		t.Fatal("no bootstrap key listed")
	}
	events := func(kind, id string) []*billingv1.AuditEvent {
		t.Helper()
		res, err := acc.ListAuditEvents(t.Context(), &billingv1.ListAuditEventsRequest{ResourceType: kind, ResourceId: id})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetAuditEvents()
	}
	str := func(e *billingv1.AuditEvent, side, field string) string {
		st := e.GetAfter()
		if side == "before" {
			st = e.GetBefore()
		}
		return st.GetFields()[field].GetStringValue()
	}

	for _, c := range changes {
		t.Run(c.kind, func(t *testing.T) {
			ctx := t.Context()
			withID := func(step string) context.Context {
				return metadata.AppendToOutgoingContext(ctx, "x-request-id", c.kind+"-"+step)
			}
			if err := c.create(withID("create")); err != nil {
				t.Fatalf("create: %v", err)
			}
			if err := c.update(withID("update")); err != nil {
				t.Fatalf("update: %v", err)
			}
			if err := c.delete(withID("delete")); err != nil {
				t.Fatalf("delete: %v", err)
			}
			es := events(c.kind, c.id)
			if len(es) != 3 {
				t.Fatalf("%d audit events, want 3: %v", len(es), es)
			}
			del, upd, cre := es[0], es[1], es[2] // newest first
			for i, want := range []string{"delete", "update", "create"} {
				ev := es[i]
				if ev.GetAction() != want || ev.GetActor() != adminID || ev.GetRequestId() != c.kind+"-"+want || ev.GetTime() == nil {
					t.Errorf("event %d = %v, want %s by %s with request id %s-%s", i, ev, want, adminID, c.kind, want)
				}
			}
			if cre.GetBefore() != nil || cre.GetAfter() == nil || str(cre, "after", c.field) != c.from {
				t.Errorf("create: before %v, after %v; want none and %s=%q", cre.GetBefore(), cre.GetAfter(), c.field, c.from)
			}
			if str(upd, "before", c.field) != c.from || str(upd, "after", c.field) != c.to {
				t.Errorf("update: %s from %q to %q, want %q to %q", c.field, str(upd, "before", c.field), str(upd, "after", c.field), c.from, c.to)
			}
			if del.GetAfter() != nil || str(del, "before", c.field) != c.to {
				t.Errorf("delete: before %v, after %v; want %s=%q and none", del.GetBefore(), del.GetAfter(), c.field, c.to)
			}
		})
	}

	t.Run("api_key", func(t *testing.T) {
		ctx := t.Context()
		res, err := acc.CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{Id: "aud-key", DisplayName: "Audit", Role: billingv1.Role_ROLE_READER, CustomerId: "cust-a"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := acc.RevokeApiKey(ctx, &billingv1.RevokeApiKeyRequest{ApiKeyId: "aud-key"}); err != nil {
			t.Fatal(err)
		}
		es := events("api_key", "aud-key")
		if len(es) != 2 || es[0].GetAction() != "revoke" || es[1].GetAction() != "create" {
			t.Fatalf("key events = %v, want revoke and create", es)
		}
		if es[0].GetBefore().GetFields()["revokeTime"].GetStringValue() != "" || es[0].GetAfter().GetFields()["revokeTime"].GetStringValue() == "" {
			t.Errorf("revoke event: before %v after %v", es[0].GetBefore(), es[0].GetAfter())
		}
		raw, _ := protojson.Marshal(es[1])
		if strings.Contains(string(raw), res.GetSecret()[len(res.GetApiKey().GetSecretPrefix()):]) || strings.Contains(strings.ToLower(string(raw)), "hash") {
			t.Errorf("the audit event holds the secret or its hash: %s", raw)
		}
	})

	t.Run("rejected changes leave none", func(t *testing.T) {
		ctx := t.Context()
		count := func() int {
			res, err := acc.ListAuditEvents(ctx, &billingv1.ListAuditEventsRequest{PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(res.GetAuditEvents())
		}
		before := count()
		for what, err := range map[string]error{
			"duplicate metric": e(cat.CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: &billingv1.Metric{Key: "vm.vcpu", Unit: "x", Aggregation: billingv1.Aggregation_AGGREGATION_SUM}})),
			"aggregation change": e(cat.UpdateMetric(ctx, &billingv1.UpdateMetricRequest{
				Metric: &billingv1.Metric{Key: "vm.vcpu", Aggregation: billingv1.Aggregation_AGGREGATION_SUM}, UpdateMask: mask("aggregation")})),
			"product in use":    e(cat.DeleteProduct(ctx, &billingv1.DeleteProductRequest{ProductId: "vcpu"})),
			"customer in use":   e(cus.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "cust-a"})),
			"overlapping price": e(pri.CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: "default-eur", Price: &billingv1.Price{Id: "dup", ProductId: "vcpu", UnitPrice: "1", Granularity: billingv1.Granularity_GRANULARITY_HOUR, ValidFrom: at(2026, 6, 1)}})),
			"scoped admin key":  e(acc.CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: &billingv1.ApiKey{DisplayName: "x", Role: billingv1.Role_ROLE_ADMIN, CustomerId: "cust-a"}})),
			"missing contract":  e(pri.DeleteContract(ctx, &billingv1.DeleteContractRequest{ContractId: "nope"})),
		} {
			if err == nil {
				t.Errorf("%s succeeded", what)
			}
		}
		if after := count(); after != before {
			t.Errorf("rejected changes left %d audit events", after-before)
		}
	})
}
