package rpc_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rpc"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// cpEnv is a gRPC server with the customer and pricing services over a
// fresh PostgreSQL database, reached through an in-memory connection, plus
// the catalog service to set up products.
type cpEnv struct {
	customers billingv1.CustomerServiceClient
	pricing   billingv1.PricingServiceClient
	catalog   *catalog.Service
}

func newCPEnv(t *testing.T) *cpEnv {
	t.Helper()
	store := pgtest.NewStore(t)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(rpc.RecoverUnary(log), rpc.ValidateUnary(validator)))
	billingv1.RegisterCustomerServiceServer(srv, rpc.NewCustomerServer(customer.New(store.Customers(), nil), log))
	billingv1.RegisterPricingServiceServer(srv, rpc.NewPricingServer(pricing.New(store.Pricing(), nil), log))
	lis := bufconn.Listen(1 << 20)
	go srv.Serve(lis) //nolint:errcheck // returns when the server stops
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &cpEnv{
		customers: billingv1.NewCustomerServiceClient(conn),
		pricing:   billingv1.NewPricingServiceClient(conn),
		catalog:   catalog.New(store.Catalog(), nil),
	}
}

// cpCtx bounds each call so a hung server fails the test instead of the run.
func cpCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cpMust[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantCode fails unless err is a status with this code.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); err == nil || got != want {
		t.Fatalf("error = %v (code %v), want code %v", err, got, want)
	}
}

// wantViolations fails unless err is InvalidArgument with a BadRequest
// naming exactly these fields.
func wantViolations(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	var got []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				if !slices.Contains(got, fv.GetField()) {
					got = append(got, fv.GetField())
				}
			}
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("violations on %v, want %v (%v)", got, fields, err)
	}
}

func wantEqual(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func mask(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }

func ids[T interface{ GetId() string }](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.GetId()
	}
	return out
}

func wantIDs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
}

func createCustomer(t *testing.T, env *cpEnv, id string) *billingv1.Customer {
	t.Helper()
	return cpMust[*billingv1.CreateCustomerResponse](t)(env.customers.CreateCustomer(cpCtx(t), &billingv1.CreateCustomerRequest{
		Customer: &billingv1.Customer{Id: id, DisplayName: "Customer " + id},
	})).GetCustomer()
}

func TestCustomerRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	cs := env.customers

	created := cpMust[*billingv1.CreateCustomerResponse](t)(cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
		Customer: &billingv1.Customer{
			Id: "c2", ExternalId: "ERP-2", DisplayName: "Acme", BillingTimeZone: "Europe/Amsterdam",
			Labels: map[string]string{"tier": "gold"},
		},
		RequestId: "0199a3c4-0000-7000-8000-000000000001",
	})).GetCustomer()
	if created.GetId() != "c2" || created.GetBillingTimeZone() != "Europe/Amsterdam" || created.GetLabels()["tier"] != "gold" ||
		created.GetCreateTime() == nil || !proto.Equal(created.GetCreateTime(), created.GetUpdateTime()) {
		t.Fatalf("created %v", created)
	}
	got := cpMust[*billingv1.GetCustomerResponse](t)(cs.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "c2"})).GetCustomer()
	wantEqual(t, got, created)

	// The same request id replays the first create.
	again := cpMust[*billingv1.CreateCustomerResponse](t)(cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
		Customer:  &billingv1.Customer{Id: "other", DisplayName: "Other"},
		RequestId: "0199a3c4-0000-7000-8000-000000000001",
	})).GetCustomer()
	wantEqual(t, again, created)

	// Defaults: a generated id and UTC.
	gen := cpMust[*billingv1.CreateCustomerResponse](t)(cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
		Customer: &billingv1.Customer{DisplayName: "Generated"},
	})).GetCustomer()
	if gen.GetId() == "" || gen.GetBillingTimeZone() != "UTC" {
		t.Fatalf("generated %v", gen)
	}
	createCustomer(t, env, "c1")
	createCustomer(t, env, "c3")

	t.Run("list pages", func(t *testing.T) {
		p1 := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{PageSize: 2}))
		wantIDs(t, ids(p1.GetCustomers()), gen.GetId(), "c1") // a UUIDv7 sorts before "c…"
		if p1.GetNextPageToken() == "" {
			t.Fatal("no next page token")
		}
		p2 := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{PageSize: 2, PageToken: p1.GetNextPageToken()}))
		wantIDs(t, ids(p2.GetCustomers()), "c2", "c3")
		if p2.GetNextPageToken() != "" {
			p3 := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{PageSize: 2, PageToken: p2.GetNextPageToken()}))
			wantIDs(t, ids(p3.GetCustomers()))
		}
		byERP := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{ExternalId: "ERP-2"}))
		wantIDs(t, ids(byERP.GetCustomers()), "c2")
		_, err := cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{PageToken: "!!"})
		wantViolations(t, err, "page_token")
	})

	t.Run("update with mask", func(t *testing.T) {
		upd := cpMust[*billingv1.UpdateCustomerResponse](t)(cs.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{
			Customer:   &billingv1.Customer{Id: "c2", DisplayName: "Acme B.V.", ExternalId: "ignored"},
			UpdateMask: mask("display_name"),
		})).GetCustomer()
		if upd.GetDisplayName() != "Acme B.V." || upd.GetExternalId() != "ERP-2" || upd.GetLabels()["tier"] != "gold" ||
			!upd.GetUpdateTime().AsTime().After(created.GetUpdateTime().AsTime()) {
			t.Fatalf("updated %v", upd)
		}
		wantEqual(t, cpMust[*billingv1.GetCustomerResponse](t)(cs.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "c2"})).GetCustomer(), upd)
	})

	t.Run("delete", func(t *testing.T) {
		cpMust[*billingv1.DeleteCustomerResponse](t)(cs.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "c3"}))
		_, err := cs.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "c3"})
		wantCode(t, err, codes.NotFound)
		_, err = cs.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "c3"})
		wantCode(t, err, codes.NotFound)
	})
}

func TestCustomerErrors(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	cs := env.customers
	cpMust[*billingv1.CreateCustomerResponse](t)(cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{
		Customer: &billingv1.Customer{Id: "c1", ExternalId: "ERP-1", DisplayName: "One"},
	}))
	before := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{}))

	for _, tc := range []struct {
		name   string
		call   func() error
		code   codes.Code
		fields []string
	}{
		{"protovalidate rules", func() error {
			_, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "-bad", BillingTimeZone: "Europe/Amsterdam"}})
			return err
		}, codes.InvalidArgument, []string{"customer.id", "customer.display_name"}},
		{"missing resource", func() error {
			_, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{})
			return err
		}, codes.InvalidArgument, []string{"customer"}},
		{"domain rule on a field", func() error {
			_, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "c2", DisplayName: "Two", BillingTimeZone: "Mars/Olympus_Mons"}})
			return err
		}, codes.InvalidArgument, []string{"customer.billing_time_zone"}},
		{"update without resource", func() error {
			_, err := cs.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{UpdateMask: mask("display_name")})
			return err
		}, codes.InvalidArgument, []string{"customer"}},
		{"update of an immutable field", func() error {
			_, err := cs.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: &billingv1.Customer{Id: "c1"}, UpdateMask: mask("create_time")})
			return err
		}, codes.InvalidArgument, []string{"update_mask"}},
		{"update to an invalid value", func() error {
			// Update resources skip protovalidate; the domain names the field.
			_, err := cs.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: &billingv1.Customer{Id: "c1"}, UpdateMask: mask("display_name")})
			return err
		}, codes.InvalidArgument, []string{"customer.display_name"}},
		{"update of an unknown customer", func() error {
			_, err := cs.UpdateCustomer(ctx, &billingv1.UpdateCustomerRequest{Customer: &billingv1.Customer{Id: "nope", DisplayName: "X"}})
			return err
		}, codes.NotFound, nil},
		{"taken id", func() error {
			_, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "c1", DisplayName: "Again"}})
			return err
		}, codes.AlreadyExists, nil},
		{"taken external id", func() error {
			_, err := cs.CreateCustomer(ctx, &billingv1.CreateCustomerRequest{Customer: &billingv1.Customer{Id: "c2", ExternalId: "ERP-1", DisplayName: "Two"}})
			return err
		}, codes.AlreadyExists, nil},
		{"unknown customer", func() error {
			_, err := cs.GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: "nope"})
			return err
		}, codes.NotFound, nil},
		{"organisation of an unknown customer", func() error {
			_, err := cs.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "nope", Organisation: &billingv1.Organisation{DisplayName: "O"}})
			return err
		}, codes.NotFound, nil},
		{"organisations of an unknown customer", func() error {
			_, err := cs.ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "nope"})
			return err
		}, codes.NotFound, nil},
		{"organisation with a bad path id", func() error {
			_, err := cs.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "", Organisation: &billingv1.Organisation{DisplayName: "O"}})
			return err
		}, codes.InvalidArgument, []string{"customer_id"}},
		{"vdc of an unknown organisation", func() error {
			_, err := cs.CreateVdc(ctx, &billingv1.CreateVdcRequest{CustomerId: "c1", OrganisationId: "nope", Vdc: &billingv1.Vdc{DisplayName: "V"}})
			return err
		}, codes.NotFound, nil},
		{"update of an unknown vdc", func() error {
			_, err := cs.UpdateVdc(ctx, &billingv1.UpdateVdcRequest{Vdc: &billingv1.Vdc{CustomerId: "c1", OrganisationId: "o1", Id: "v1", DisplayName: "V"}})
			return err
		}, codes.NotFound, nil},
		{"update of a vdc without its parents", func() error {
			_, err := cs.UpdateVdc(ctx, &billingv1.UpdateVdcRequest{Vdc: &billingv1.Vdc{Id: "v1", DisplayName: "V"}})
			return err
		}, codes.InvalidArgument, []string{"vdc.customer_id", "vdc.organisation_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == codes.InvalidArgument {
				wantViolations(t, err, tc.fields...)
			} else {
				wantCode(t, err, tc.code)
			}
		})
	}

	after := cpMust[*billingv1.ListCustomersResponse](t)(cs.ListCustomers(ctx, &billingv1.ListCustomersRequest{}))
	wantEqual(t, after, before)
}

func TestOrganisationAndVdcRoundTrip(t *testing.T) {
	t.Parallel()
	env := newCPEnv(t)
	ctx := cpCtx(t)
	cs := env.customers
	createCustomer(t, env, "c1")
	createCustomer(t, env, "c2")

	// The parent comes from the path, whatever the body says.
	o1 := cpMust[*billingv1.CreateOrganisationResponse](t)(cs.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{
		CustomerId: "c1", Organisation: &billingv1.Organisation{CustomerId: "c2", Id: "o1", DisplayName: "Org 1"},
	})).GetOrganisation()
	if o1.GetCustomerId() != "c1" || o1.GetId() != "o1" || o1.GetCreateTime() == nil {
		t.Fatalf("created %v", o1)
	}
	wantEqual(t, cpMust[*billingv1.GetOrganisationResponse](t)(cs.GetOrganisation(ctx, &billingv1.GetOrganisationRequest{CustomerId: "c1", OrganisationId: "o1"})).GetOrganisation(), o1)
	_, err := cs.GetOrganisation(ctx, &billingv1.GetOrganisationRequest{CustomerId: "c2", OrganisationId: "o1"})
	wantCode(t, err, codes.NotFound)
	for _, id := range []string{"o2", "o3"} {
		cpMust[*billingv1.CreateOrganisationResponse](t)(cs.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{
			CustomerId: "c1", Organisation: &billingv1.Organisation{Id: id, DisplayName: "Org " + id},
		}))
	}
	_, err = cs.CreateOrganisation(ctx, &billingv1.CreateOrganisationRequest{CustomerId: "c1", Organisation: &billingv1.Organisation{Id: "o1", DisplayName: "Dup"}})
	wantCode(t, err, codes.AlreadyExists)

	p1 := cpMust[*billingv1.ListOrganisationsResponse](t)(cs.ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "c1", PageSize: 2}))
	wantIDs(t, ids(p1.GetOrganisations()), "o1", "o2")
	p2 := cpMust[*billingv1.ListOrganisationsResponse](t)(cs.ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "c1", PageSize: 2, PageToken: p1.GetNextPageToken()}))
	wantIDs(t, ids(p2.GetOrganisations()), "o3")
	if p2.GetNextPageToken() != "" {
		t.Fatalf("last page has a token %q", p2.GetNextPageToken())
	}
	none := cpMust[*billingv1.ListOrganisationsResponse](t)(cs.ListOrganisations(ctx, &billingv1.ListOrganisationsRequest{CustomerId: "c2"}))
	wantIDs(t, ids(none.GetOrganisations()))

	// Update selects the organisation by its own customer_id and id.
	upd := cpMust[*billingv1.UpdateOrganisationResponse](t)(cs.UpdateOrganisation(ctx, &billingv1.UpdateOrganisationRequest{
		Organisation: &billingv1.Organisation{CustomerId: "c1", Id: "o1", DisplayName: "Renamed"}, UpdateMask: mask("display_name"),
	})).GetOrganisation()
	if upd.GetDisplayName() != "Renamed" || upd.GetCustomerId() != "c1" || !proto.Equal(upd.GetCreateTime(), o1.GetCreateTime()) {
		t.Fatalf("updated %v", upd)
	}
	_, err = cs.UpdateOrganisation(ctx, &billingv1.UpdateOrganisationRequest{
		Organisation: &billingv1.Organisation{CustomerId: "c1", Id: "o1"}, UpdateMask: mask("customer_id"),
	})
	wantViolations(t, err, "update_mask")
	_, err = cs.UpdateOrganisation(ctx, &billingv1.UpdateOrganisationRequest{})
	wantViolations(t, err, "organisation")

	// VDCs.
	v1 := cpMust[*billingv1.CreateVdcResponse](t)(cs.CreateVdc(ctx, &billingv1.CreateVdcRequest{
		CustomerId: "c1", OrganisationId: "o1", Vdc: &billingv1.Vdc{Id: "v1", DisplayName: "VDC 1"},
	})).GetVdc()
	if v1.GetCustomerId() != "c1" || v1.GetOrganisationId() != "o1" || v1.GetId() != "v1" {
		t.Fatalf("created %v", v1)
	}
	wantEqual(t, cpMust[*billingv1.GetVdcResponse](t)(cs.GetVdc(ctx, &billingv1.GetVdcRequest{CustomerId: "c1", OrganisationId: "o1", VdcId: "v1"})).GetVdc(), v1)
	v2 := cpMust[*billingv1.CreateVdcResponse](t)(cs.CreateVdc(ctx, &billingv1.CreateVdcRequest{
		CustomerId: "c1", OrganisationId: "o1", Vdc: &billingv1.Vdc{DisplayName: "VDC generated"},
	})).GetVdc()
	vp1 := cpMust[*billingv1.ListVdcsResponse](t)(cs.ListVdcs(ctx, &billingv1.ListVdcsRequest{CustomerId: "c1", OrganisationId: "o1", PageSize: 1}))
	wantIDs(t, ids(vp1.GetVdcs()), v2.GetId()) // a UUIDv7 sorts before "v1"
	vp2 := cpMust[*billingv1.ListVdcsResponse](t)(cs.ListVdcs(ctx, &billingv1.ListVdcsRequest{CustomerId: "c1", OrganisationId: "o1", PageSize: 1, PageToken: vp1.GetNextPageToken()}))
	wantIDs(t, ids(vp2.GetVdcs()), "v1")
	_, err = cs.ListVdcs(ctx, &billingv1.ListVdcsRequest{CustomerId: "c1", OrganisationId: "o9"})
	wantCode(t, err, codes.NotFound)

	vu := cpMust[*billingv1.UpdateVdcResponse](t)(cs.UpdateVdc(ctx, &billingv1.UpdateVdcRequest{
		Vdc: &billingv1.Vdc{CustomerId: "c1", OrganisationId: "o1", Id: "v1", DisplayName: "VDC one"},
	})).GetVdc()
	if vu.GetDisplayName() != "VDC one" {
		t.Fatalf("updated %v", vu)
	}

	// Parents cannot go while children exist.
	_, err = cs.DeleteOrganisation(ctx, &billingv1.DeleteOrganisationRequest{CustomerId: "c1", OrganisationId: "o1"})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = cs.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "c1"})
	wantCode(t, err, codes.FailedPrecondition)

	for _, v := range []string{"v1", v2.GetId()} {
		cpMust[*billingv1.DeleteVdcResponse](t)(cs.DeleteVdc(ctx, &billingv1.DeleteVdcRequest{CustomerId: "c1", OrganisationId: "o1", VdcId: v}))
	}
	_, err = cs.DeleteVdc(ctx, &billingv1.DeleteVdcRequest{CustomerId: "c1", OrganisationId: "o1", VdcId: "v1"})
	wantCode(t, err, codes.NotFound)
	_, err = cs.GetVdc(ctx, &billingv1.GetVdcRequest{CustomerId: "c1", OrganisationId: "o1", VdcId: "v1"})
	wantCode(t, err, codes.NotFound)
	for _, o := range []string{"o1", "o2", "o3"} {
		cpMust[*billingv1.DeleteOrganisationResponse](t)(cs.DeleteOrganisation(ctx, &billingv1.DeleteOrganisationRequest{CustomerId: "c1", OrganisationId: o}))
	}
	_, err = cs.GetOrganisation(ctx, &billingv1.GetOrganisationRequest{CustomerId: "c1", OrganisationId: "o1"})
	wantCode(t, err, codes.NotFound)
	cpMust[*billingv1.DeleteCustomerResponse](t)(cs.DeleteCustomer(ctx, &billingv1.DeleteCustomerRequest{CustomerId: "c1"}))
}
