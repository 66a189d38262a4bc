package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// kind is one resource type a catalog file may hold, and how to create,
// read and update it.
type kind struct {
	name, section, snake string
	newMsg               func() proto.Message
	id                   func(proto.Message) string
	create               func(context.Context, grpc.ClientConnInterface, proto.Message) error
	get                  func(context.Context, grpc.ClientConnInterface, proto.Message) (proto.Message, error)
	update               func(context.Context, grpc.ClientConnInterface, proto.Message, *fieldmaskpb.FieldMask) error
}

var (
	metricKind = &kind{name: "metric", section: "metrics", snake: "metrics",
		newMsg: func() proto.Message { return &billingv1.Metric{} },
		id:     func(m proto.Message) string { return m.(*billingv1.Metric).GetKey() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewCatalogServiceClient(c).CreateMetric(ctx, &billingv1.CreateMetricRequest{Metric: m.(*billingv1.Metric)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewCatalogServiceClient(c).GetMetric(ctx, &billingv1.GetMetricRequest{MetricKey: m.(*billingv1.Metric).GetKey()})
			return r.GetMetric(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewCatalogServiceClient(c).UpdateMetric(ctx, &billingv1.UpdateMetricRequest{Metric: m.(*billingv1.Metric), UpdateMask: mask})
			return err
		}}
	groupKind = &kind{name: "product group", section: "productGroups", snake: "product_groups",
		newMsg: func() proto.Message { return &billingv1.ProductGroup{} },
		id:     func(m proto.Message) string { return m.(*billingv1.ProductGroup).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewCatalogServiceClient(c).CreateProductGroup(ctx, &billingv1.CreateProductGroupRequest{ProductGroup: m.(*billingv1.ProductGroup)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewCatalogServiceClient(c).GetProductGroup(ctx, &billingv1.GetProductGroupRequest{ProductGroupId: m.(*billingv1.ProductGroup).GetId()})
			return r.GetProductGroup(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewCatalogServiceClient(c).UpdateProductGroup(ctx, &billingv1.UpdateProductGroupRequest{ProductGroup: m.(*billingv1.ProductGroup), UpdateMask: mask})
			return err
		}}
	productKind = &kind{name: "product", section: "products", snake: "products",
		newMsg: func() proto.Message { return &billingv1.Product{} },
		id:     func(m proto.Message) string { return m.(*billingv1.Product).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewCatalogServiceClient(c).CreateProduct(ctx, &billingv1.CreateProductRequest{Product: m.(*billingv1.Product)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewCatalogServiceClient(c).GetProduct(ctx, &billingv1.GetProductRequest{ProductId: m.(*billingv1.Product).GetId()})
			return r.GetProduct(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewCatalogServiceClient(c).UpdateProduct(ctx, &billingv1.UpdateProductRequest{Product: m.(*billingv1.Product), UpdateMask: mask})
			return err
		}}
	customerKind = &kind{name: "customer", section: "customers", snake: "customers",
		newMsg: func() proto.Message { return &billingv1.Customer{} },
		id:     func(m proto.Message) string { return m.(*billingv1.Customer).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewCustomerServiceClient(c).CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: m.(*billingv1.Customer)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewCustomerServiceClient(c).GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: m.(*billingv1.Customer).GetId()})
			return r.GetCustomer(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewCustomerServiceClient(c).UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: m.(*billingv1.Customer), UpdateMask: mask})
			return err
		}}
	priceListKind = &kind{name: "price list", section: "priceLists", snake: "price_lists",
		newMsg: func() proto.Message { return &billingv1.PriceList{} },
		id:     func(m proto.Message) string { return m.(*billingv1.PriceList).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewPricingServiceClient(c).CreatePriceList(ctx, &billingv1.CreatePriceListRequest{PriceList: m.(*billingv1.PriceList)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewPricingServiceClient(c).GetPriceList(ctx, &billingv1.GetPriceListRequest{PriceListId: m.(*billingv1.PriceList).GetId()})
			return r.GetPriceList(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewPricingServiceClient(c).UpdatePriceList(ctx, &billingv1.UpdatePriceListRequest{PriceList: m.(*billingv1.PriceList), UpdateMask: mask})
			return err
		}}
	priceKind = &kind{name: "price", section: "prices",
		newMsg: func() proto.Message { return &billingv1.Price{} },
		id: func(m proto.Message) string {
			p := m.(*billingv1.Price)
			return p.GetPriceListId() + "/" + p.GetId()
		},
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			p := m.(*billingv1.Price)
			_, err := billingv1.NewPricingServiceClient(c).CreatePrice(ctx, &billingv1.CreatePriceRequest{PriceListId: p.GetPriceListId(), Price: p})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			p := m.(*billingv1.Price)
			r, err := billingv1.NewPricingServiceClient(c).GetPrice(ctx, &billingv1.GetPriceRequest{PriceListId: p.GetPriceListId(), PriceId: p.GetId()})
			return r.GetPrice(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewPricingServiceClient(c).UpdatePrice(ctx, &billingv1.UpdatePriceRequest{Price: m.(*billingv1.Price), UpdateMask: mask})
			return err
		}}
	campaignKind = &kind{name: "campaign", section: "campaigns", snake: "campaigns",
		newMsg: func() proto.Message { return &billingv1.Campaign{} },
		id:     func(m proto.Message) string { return m.(*billingv1.Campaign).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewPricingServiceClient(c).CreateCampaign(ctx, &billingv1.CreateCampaignRequest{Campaign: m.(*billingv1.Campaign)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewPricingServiceClient(c).GetCampaign(ctx, &billingv1.GetCampaignRequest{CampaignId: m.(*billingv1.Campaign).GetId()})
			return r.GetCampaign(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewPricingServiceClient(c).UpdateCampaign(ctx, &billingv1.UpdateCampaignRequest{Campaign: m.(*billingv1.Campaign), UpdateMask: mask})
			return err
		}}
	contractKind = &kind{name: "contract", section: "contracts", snake: "contracts",
		newMsg: func() proto.Message { return &billingv1.Contract{} },
		id:     func(m proto.Message) string { return m.(*billingv1.Contract).GetId() },
		create: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) error {
			_, err := billingv1.NewPricingServiceClient(c).CreateContract(ctx, &billingv1.CreateContractRequest{Contract: m.(*billingv1.Contract)})
			return err
		},
		get: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message) (proto.Message, error) {
			r, err := billingv1.NewPricingServiceClient(c).GetContract(ctx, &billingv1.GetContractRequest{ContractId: m.(*billingv1.Contract).GetId()})
			return r.GetContract(), err
		},
		update: func(ctx context.Context, c grpc.ClientConnInterface, m proto.Message, mask *fieldmaskpb.FieldMask) error {
			_, err := billingv1.NewPricingServiceClient(c).UpdateContract(ctx, &billingv1.UpdateContractRequest{Contract: m.(*billingv1.Contract), UpdateMask: mask})
			return err
		}}
)

// kinds in the order a catalog is applied: what others refer to first.
var kinds = []*kind{metricKind, groupKind, productKind, customerKind, priceListKind, campaignKind, contractKind}

func kindBySection(s string) *kind {
	for _, k := range kinds {
		if s == k.section || s == k.snake {
			return k
		}
	}
	return nil
}

func sectionNames() string {
	var s []string
	for _, k := range kinds {
		s = append(s, k.section)
	}
	return strings.Join(s, ", ") + " (prices go inside a price list)"
}

const catalogHelp = `The file (YAML or JSON) has one list per kind, applied in this order:
metrics, productGroups, products, customers, priceLists (each with its
prices), campaigns, contracts. Fields are the API's (see docs/api.md and
proto/billing/v1): displayName or display_name; enums in full
(GRANULARITY_HOUR) or short (hour); decimals bare (0.0125) or quoted.

Each resource is created; one that exists already is compared with the
file and updated with only the fields that differ (an update_mask), so
loading the same file again changes nothing. Prices, campaigns and
contracts need an id for that. Nothing is deleted.

  metrics:
    - {key: vm.vcpu, displayName: vCPU allocated, unit: vCPU, aggregation: time_weighted_avg}
  productGroups:
    - {id: compute, displayName: Compute}
  products:
    - {id: vcpu, productGroupId: compute, metricKey: vm.vcpu, displayName: vCPU, unit: vCPU-hour}
  priceLists:
    - id: default-eur
      displayName: Default EUR
      currency: EUR
      prices:
        - {id: vcpu-2026, productId: vcpu, unitPrice: 0.0125, granularity: hour, validFrom: 2026-01-01T00:00:00Z}

Each line of output says what happened: created, updated (with the
fields), unchanged; the first error stops the load.
`

func catalogLoadCommand() command {
	return command{
		name: "catalog load", args: "FILE", summary: "Create or update catalog, customers and pricing from a YAML or JSON file.",
		help: catalogHelp,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			dry := fs.Bool("dry-run", false, "compare with billingd and print what would change, without changing anything")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one file")
				}
				var data []byte
				var err error
				if args[0] == "-" {
					data, err = io.ReadAll(e.stdin)
				} else {
					data, err = os.ReadFile(args[0])
				}
				if err != nil {
					return err
				}
				entries, err := parseCatalog(args[0], data)
				if err != nil {
					return err
				}
				return withConn(e, func(conn *grpc.ClientConn) error { return applyCatalog(e, conn, entries, *dry) })
			}
		},
	}
}

func applyCatalog(e *env, conn grpc.ClientConnInterface, entries []entry, dry bool) error {
	var created, updated, unchanged int
	for _, en := range entries {
		what := en.kind.name + " " + en.kind.id(en.msg)
		result, err := applyOne(e, conn, en, dry)
		if err != nil {
			return fmt.Errorf("%s (line %d): %w", what, en.line, err)
		}
		switch {
		case result == "created" || result == "would be created":
			created++
		case strings.HasPrefix(result, "updated") || strings.HasPrefix(result, "would update"):
			updated++
		default:
			unchanged++
		}
		fmt.Fprintf(e.stdout, "%-40s %s\n", what, result)
	}
	verb := ""
	if dry {
		verb = " (dry run: nothing changed)"
	}
	fmt.Fprintf(e.stdout, "%d created, %d updated, %d unchanged%s\n", created, updated, unchanged, verb)
	return nil
}

func applyOne(e *env, conn grpc.ClientConnInterface, en entry, dry bool) (string, error) {
	ctx, cancel := e.call()
	defer cancel()
	cur, err := en.kind.get(ctx, conn, en.msg)
	switch {
	case status.Code(err) == codes.NotFound:
		if dry {
			return "would be created", nil
		}
		if err := en.kind.create(ctx, conn, en.msg); err != nil {
			return "", err
		}
		return "created", nil
	case err != nil:
		return "", err
	}
	paths := differences(en.msg, cur)
	if len(paths) == 0 {
		return "unchanged", nil
	}
	if dry {
		return "would update " + strings.Join(paths, ", "), nil
	}
	if err := en.kind.update(ctx, conn, en.msg, &fieldmaskpb.FieldMask{Paths: paths}); err != nil {
		return "", err
	}
	return "updated " + strings.Join(paths, ", "), nil
}

// differences lists the fields set in want whose value differs in have
// (decimal strings compare by value: 0.10 equals 0.1).
func differences(want, have proto.Message) []string {
	w, h := want.ProtoReflect(), have.ProtoReflect()
	var out []string
	w.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		hv := h.Get(fd)
		if v.Equal(hv) {
			return true
		}
		if fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() {
			a, errA := decimal.NewFromString(v.String())
			b, errB := decimal.NewFromString(hv.String())
			if errA == nil && errB == nil && a.Equal(b) {
				return true
			}
		}
		out = append(out, string(fd.Name()))
		return true
	})
	slices.Sort(out)
	return out
}

func catalogListCommand() command {
	return command{
		name: "catalog list", summary: "List metrics, product groups, products and price lists.",
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				return withConn(e, func(conn *grpc.ClientConn) error { return listCatalog(e, conn) })
			}
		},
	}
}

func listCatalog(e *env, conn grpc.ClientConnInterface) error {
	cat := billingv1.NewCatalogServiceClient(conn)
	pri := billingv1.NewPricingServiceClient(conn)
	ctx, cancel := e.call()
	defer cancel()
	metrics, err := cat.ListMetrics(ctx, &billingv1.ListMetricsRequest{PageSize: 1000})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Metrics")
	t := table{head: []string{"KEY", "UNIT", "AGGREGATION", "NAME"}}
	for _, m := range metrics.GetMetrics() {
		t.rows = append(t.rows, []string{m.GetKey(), m.GetUnit(), short(m.GetAggregation().String()), m.GetDisplayName()})
	}
	t.write(e.stdout)
	groups, err := cat.ListProductGroups(ctx, &billingv1.ListProductGroupsRequest{PageSize: 1000})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nProduct groups")
	t = table{head: []string{"ID", "NAME"}}
	for _, g := range groups.GetProductGroups() {
		t.rows = append(t.rows, []string{g.GetId(), g.GetDisplayName()})
	}
	t.write(e.stdout)
	products, err := cat.ListProducts(ctx, &billingv1.ListProductsRequest{PageSize: 1000})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nProducts")
	t = table{head: []string{"ID", "GROUP", "METRIC", "FILTER", "UNIT", "NAME"}}
	for _, p := range products.GetProducts() {
		var f []string
		for k, v := range p.GetDimensionFilter() {
			f = append(f, k+"="+v)
		}
		slices.Sort(f)
		t.rows = append(t.rows, []string{p.GetId(), p.GetProductGroupId(), p.GetMetricKey(), strings.Join(f, ","), p.GetUnit(), p.GetDisplayName()})
	}
	t.write(e.stdout)
	lists, err := pri.ListPriceLists(ctx, &billingv1.ListPriceListsRequest{PageSize: 1000})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nPrice lists")
	t = table{head: []string{"ID", "CURRENCY", "CUSTOMER", "NAME"}}
	for _, l := range lists.GetPriceLists() {
		t.rows = append(t.rows, []string{l.GetId(), l.GetCurrency(), l.GetCustomerId(), l.GetDisplayName()})
	}
	t.write(e.stdout)
	return nil
}

// short turns GRANULARITY_HOUR into hour and TIER_MODE_VOLUME into volume.
func short(enum string) string {
	for _, p := range []string{"AGGREGATION_", "GRANULARITY_", "TIER_MODE_"} {
		if strings.HasPrefix(enum, p) {
			return strings.ToLower(strings.TrimPrefix(enum, p))
		}
	}
	return strings.ToLower(enum)
}

func pricesListCommand() command {
	return command{
		name: "prices list", args: "PRICE_LIST", summary: "List the prices of a price list.",
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			product := fs.String("product", "", "only prices of this product")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one price list id (see billingctl catalog list)")
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					ctx, cancel := e.call()
					defer cancel()
					res, err := billingv1.NewPricingServiceClient(conn).ListPrices(ctx, &billingv1.ListPricesRequest{PriceListId: args[0], ProductId: *product, PageSize: 1000})
					if err != nil {
						return err
					}
					t := table{head: []string{"ID", "PRODUCT", "UNIT PRICE", "PER", "VALID FROM", "VALID TO"}, right: []int{2}}
					for _, p := range res.GetPrices() {
						price := p.GetUnitPrice()
						if price == "" {
							price = fmt.Sprintf("%d tiers (%s)", len(p.GetTiers()), short(p.GetTierMode().String()))
						}
						t.rows = append(t.rows, []string{p.GetId(), p.GetProductId(), price, short(p.GetGranularity().String()), day(p.GetValidFrom()), day(p.GetValidTo())})
					}
					t.write(e.stdout)
					return nil
				})
			}
		},
	}
}
