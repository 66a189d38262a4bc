package rpc

import (
	"context"
	"log/slog"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/customer"
)

// CustomerServer serves billing.v1.CustomerService.
type CustomerServer struct {
	billingv1.UnimplementedCustomerServiceServer
	svc *customer.Service
	log *slog.Logger
}

var _ billingv1.CustomerServiceServer = (*CustomerServer)(nil)

// NewCustomerServer returns the gRPC server of customers, organisations and VDCs.
func NewCustomerServer(svc *customer.Service, log *slog.Logger) *CustomerServer {
	return &CustomerServer{svc: svc, log: log}
}

func (s *CustomerServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

func (s *CustomerServer) CreateCustomer(ctx context.Context, req *billingv1.CreateCustomerRequest) (*billingv1.CreateCustomerResponse, error) {
	c, err := s.svc.CreateCustomer(ctx, customer.CreateCustomerInput{Customer: customerFromProto(req.GetCustomer()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("customer", err))
	}
	return &billingv1.CreateCustomerResponse{Customer: customerToProto(c)}, nil
}

func (s *CustomerServer) GetCustomer(ctx context.Context, req *billingv1.GetCustomerRequest) (*billingv1.GetCustomerResponse, error) {
	c, err := s.svc.GetCustomer(ctx, req.GetCustomerId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetCustomerResponse{Customer: customerToProto(c)}, nil
}

func (s *CustomerServer) ListCustomers(ctx context.Context, req *billingv1.ListCustomersRequest) (*billingv1.ListCustomersResponse, error) {
	if p, ok := access.FromContext(ctx); ok && p.Scoped() {
		return s.listScopedCustomers(ctx, p, req)
	}
	cs, next, err := s.svc.ListCustomers(ctx, customer.ListCustomersParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), ExternalID: req.GetExternalId(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListCustomersResponse{NextPageToken: next}
	for _, c := range cs {
		out.Customers = append(out.Customers, customerToProto(c))
	}
	return out, nil
}

func (s *CustomerServer) UpdateCustomer(ctx context.Context, req *billingv1.UpdateCustomerRequest) (*billingv1.UpdateCustomerResponse, error) {
	if req.GetCustomer() == nil {
		return nil, s.err(ctx, required("customer"))
	}
	c, err := s.svc.UpdateCustomer(ctx, customer.UpdateCustomerInput{Customer: customerFromProto(req.GetCustomer()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("customer", err))
	}
	return &billingv1.UpdateCustomerResponse{Customer: customerToProto(c)}, nil
}

func (s *CustomerServer) DeleteCustomer(ctx context.Context, req *billingv1.DeleteCustomerRequest) (*billingv1.DeleteCustomerResponse, error) {
	if err := s.svc.DeleteCustomer(ctx, req.GetCustomerId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteCustomerResponse{}, nil
}

func (s *CustomerServer) CreateOrganisation(ctx context.Context, req *billingv1.CreateOrganisationRequest) (*billingv1.CreateOrganisationResponse, error) {
	o := organisationFromProto(req.GetOrganisation())
	o.CustomerID = req.GetCustomerId() // the parent comes from the request path
	o, err := s.svc.CreateOrganisation(ctx, customer.CreateOrganisationInput{Organisation: o, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, withinPath("organisation", err, "customer_id"))
	}
	return &billingv1.CreateOrganisationResponse{Organisation: organisationToProto(o)}, nil
}

func (s *CustomerServer) GetOrganisation(ctx context.Context, req *billingv1.GetOrganisationRequest) (*billingv1.GetOrganisationResponse, error) {
	o, err := s.svc.GetOrganisation(ctx, req.GetCustomerId(), req.GetOrganisationId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetOrganisationResponse{Organisation: organisationToProto(o)}, nil
}

func (s *CustomerServer) ListOrganisations(ctx context.Context, req *billingv1.ListOrganisationsRequest) (*billingv1.ListOrganisationsResponse, error) {
	orgs, next, err := s.svc.ListOrganisations(ctx, customer.ListOrganisationsParams{
		CustomerID: req.GetCustomerId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListOrganisationsResponse{NextPageToken: next}
	for _, o := range orgs {
		out.Organisations = append(out.Organisations, organisationToProto(o))
	}
	return out, nil
}

func (s *CustomerServer) UpdateOrganisation(ctx context.Context, req *billingv1.UpdateOrganisationRequest) (*billingv1.UpdateOrganisationResponse, error) {
	if req.GetOrganisation() == nil {
		return nil, s.err(ctx, required("organisation"))
	}
	o, err := s.svc.UpdateOrganisation(ctx, customer.UpdateOrganisationInput{
		Organisation: organisationFromProto(req.GetOrganisation()), UpdateMask: paths(req.GetUpdateMask()),
	})
	if err != nil {
		return nil, s.err(ctx, within("organisation", err))
	}
	return &billingv1.UpdateOrganisationResponse{Organisation: organisationToProto(o)}, nil
}

func (s *CustomerServer) DeleteOrganisation(ctx context.Context, req *billingv1.DeleteOrganisationRequest) (*billingv1.DeleteOrganisationResponse, error) {
	if err := s.svc.DeleteOrganisation(ctx, req.GetCustomerId(), req.GetOrganisationId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteOrganisationResponse{}, nil
}

func (s *CustomerServer) CreateVdc(ctx context.Context, req *billingv1.CreateVdcRequest) (*billingv1.CreateVdcResponse, error) {
	d := vdcFromProto(req.GetVdc())
	d.CustomerID, d.OrganisationID = req.GetCustomerId(), req.GetOrganisationId() // the parents come from the request path
	d, err := s.svc.CreateVdc(ctx, customer.CreateVdcInput{Vdc: d, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, withinPath("vdc", err, "customer_id", "organisation_id"))
	}
	return &billingv1.CreateVdcResponse{Vdc: vdcToProto(d)}, nil
}

func (s *CustomerServer) GetVdc(ctx context.Context, req *billingv1.GetVdcRequest) (*billingv1.GetVdcResponse, error) {
	d, err := s.svc.GetVdc(ctx, req.GetCustomerId(), req.GetOrganisationId(), req.GetVdcId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetVdcResponse{Vdc: vdcToProto(d)}, nil
}

func (s *CustomerServer) ListVdcs(ctx context.Context, req *billingv1.ListVdcsRequest) (*billingv1.ListVdcsResponse, error) {
	ds, next, err := s.svc.ListVdcs(ctx, customer.ListVdcsParams{
		CustomerID: req.GetCustomerId(), OrganisationID: req.GetOrganisationId(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListVdcsResponse{NextPageToken: next}
	for _, d := range ds {
		out.Vdcs = append(out.Vdcs, vdcToProto(d))
	}
	return out, nil
}

func (s *CustomerServer) UpdateVdc(ctx context.Context, req *billingv1.UpdateVdcRequest) (*billingv1.UpdateVdcResponse, error) {
	if req.GetVdc() == nil {
		return nil, s.err(ctx, required("vdc"))
	}
	d, err := s.svc.UpdateVdc(ctx, customer.UpdateVdcInput{Vdc: vdcFromProto(req.GetVdc()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("vdc", err))
	}
	return &billingv1.UpdateVdcResponse{Vdc: vdcToProto(d)}, nil
}

func (s *CustomerServer) DeleteVdc(ctx context.Context, req *billingv1.DeleteVdcRequest) (*billingv1.DeleteVdcResponse, error) {
	if err := s.svc.DeleteVdc(ctx, req.GetCustomerId(), req.GetOrganisationId(), req.GetVdcId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteVdcResponse{}, nil
}

func customerFromProto(c *billingv1.Customer) customer.Customer {
	return customer.Customer{
		ID: c.GetId(), ExternalID: c.GetExternalId(), DisplayName: c.GetDisplayName(),
		BillingTimeZone: c.GetBillingTimeZone(), Labels: c.GetLabels(),
	}
}

func customerToProto(c customer.Customer) *billingv1.Customer {
	return &billingv1.Customer{
		Id: c.ID, ExternalId: c.ExternalID, DisplayName: c.DisplayName,
		BillingTimeZone: c.BillingTimeZone, Labels: c.Labels,
		CreateTime: ts(c.CreateTime), UpdateTime: ts(c.UpdateTime),
	}
}

func organisationFromProto(o *billingv1.Organisation) customer.Organisation {
	return customer.Organisation{CustomerID: o.GetCustomerId(), ID: o.GetId(), DisplayName: o.GetDisplayName()}
}

func organisationToProto(o customer.Organisation) *billingv1.Organisation {
	return &billingv1.Organisation{
		CustomerId: o.CustomerID, Id: o.ID, DisplayName: o.DisplayName,
		CreateTime: ts(o.CreateTime), UpdateTime: ts(o.UpdateTime),
	}
}

func vdcFromProto(d *billingv1.Vdc) customer.Vdc {
	return customer.Vdc{
		CustomerID: d.GetCustomerId(), OrganisationID: d.GetOrganisationId(), ID: d.GetId(), DisplayName: d.GetDisplayName(),
	}
}

func vdcToProto(d customer.Vdc) *billingv1.Vdc {
	return &billingv1.Vdc{
		CustomerId: d.CustomerID, OrganisationId: d.OrganisationID, Id: d.ID, DisplayName: d.DisplayName,
		CreateTime: ts(d.CreateTime), UpdateTime: ts(d.UpdateTime),
	}
}
