package rpc

import (
	"context"
	"log/slog"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/catalog"
)

// CatalogServer serves billing.v1.CatalogService.
type CatalogServer struct {
	billingv1.UnimplementedCatalogServiceServer
	svc *catalog.Service
	log *slog.Logger
}

var _ billingv1.CatalogServiceServer = (*CatalogServer)(nil)

// NewCatalogServer returns the gRPC server of the catalog.
func NewCatalogServer(svc *catalog.Service, log *slog.Logger) *CatalogServer {
	return &CatalogServer{svc: svc, log: log}
}

func (s *CatalogServer) err(ctx context.Context, err error) error { return ToStatus(ctx, s.log, err) }

func (s *CatalogServer) CreateMetric(ctx context.Context, req *billingv1.CreateMetricRequest) (*billingv1.CreateMetricResponse, error) {
	m, err := s.svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: metricFromProto(req.GetMetric()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("metric", err))
	}
	return &billingv1.CreateMetricResponse{Metric: metricToProto(m)}, nil
}

func (s *CatalogServer) GetMetric(ctx context.Context, req *billingv1.GetMetricRequest) (*billingv1.GetMetricResponse, error) {
	m, err := s.svc.GetMetric(ctx, req.GetMetricKey())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetMetricResponse{Metric: metricToProto(m)}, nil
}

func (s *CatalogServer) ListMetrics(ctx context.Context, req *billingv1.ListMetricsRequest) (*billingv1.ListMetricsResponse, error) {
	ms, next, err := s.svc.ListMetrics(ctx, catalog.ListMetricsParams{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListMetricsResponse{NextPageToken: next}
	for _, m := range ms {
		out.Metrics = append(out.Metrics, metricToProto(m))
	}
	return out, nil
}

func (s *CatalogServer) UpdateMetric(ctx context.Context, req *billingv1.UpdateMetricRequest) (*billingv1.UpdateMetricResponse, error) {
	if req.GetMetric() == nil {
		return nil, s.err(ctx, required("metric"))
	}
	m, err := s.svc.UpdateMetric(ctx, catalog.UpdateMetricInput{Metric: metricFromProto(req.GetMetric()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("metric", err))
	}
	return &billingv1.UpdateMetricResponse{Metric: metricToProto(m)}, nil
}

func (s *CatalogServer) DeleteMetric(ctx context.Context, req *billingv1.DeleteMetricRequest) (*billingv1.DeleteMetricResponse, error) {
	if err := s.svc.DeleteMetric(ctx, req.GetMetricKey()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteMetricResponse{}, nil
}

func (s *CatalogServer) CreateProductGroup(ctx context.Context, req *billingv1.CreateProductGroupRequest) (*billingv1.CreateProductGroupResponse, error) {
	g, err := s.svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: groupFromProto(req.GetProductGroup()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("product_group", err))
	}
	return &billingv1.CreateProductGroupResponse{ProductGroup: groupToProto(g)}, nil
}

func (s *CatalogServer) GetProductGroup(ctx context.Context, req *billingv1.GetProductGroupRequest) (*billingv1.GetProductGroupResponse, error) {
	g, err := s.svc.GetProductGroup(ctx, req.GetProductGroupId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetProductGroupResponse{ProductGroup: groupToProto(g)}, nil
}

func (s *CatalogServer) ListProductGroups(ctx context.Context, req *billingv1.ListProductGroupsRequest) (*billingv1.ListProductGroupsResponse, error) {
	gs, next, err := s.svc.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListProductGroupsResponse{NextPageToken: next}
	for _, g := range gs {
		out.ProductGroups = append(out.ProductGroups, groupToProto(g))
	}
	return out, nil
}

func (s *CatalogServer) UpdateProductGroup(ctx context.Context, req *billingv1.UpdateProductGroupRequest) (*billingv1.UpdateProductGroupResponse, error) {
	if req.GetProductGroup() == nil {
		return nil, s.err(ctx, required("product_group"))
	}
	g, err := s.svc.UpdateProductGroup(ctx, catalog.UpdateProductGroupInput{Group: groupFromProto(req.GetProductGroup()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("product_group", err))
	}
	return &billingv1.UpdateProductGroupResponse{ProductGroup: groupToProto(g)}, nil
}

func (s *CatalogServer) DeleteProductGroup(ctx context.Context, req *billingv1.DeleteProductGroupRequest) (*billingv1.DeleteProductGroupResponse, error) {
	if err := s.svc.DeleteProductGroup(ctx, req.GetProductGroupId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteProductGroupResponse{}, nil
}

func (s *CatalogServer) CreateProduct(ctx context.Context, req *billingv1.CreateProductRequest) (*billingv1.CreateProductResponse, error) {
	p, err := s.svc.CreateProduct(ctx, catalog.CreateProductInput{Product: productFromProto(req.GetProduct()), RequestID: req.GetRequestId()})
	if err != nil {
		return nil, s.err(ctx, within("product", err))
	}
	return &billingv1.CreateProductResponse{Product: productToProto(p)}, nil
}

func (s *CatalogServer) GetProduct(ctx context.Context, req *billingv1.GetProductRequest) (*billingv1.GetProductResponse, error) {
	p, err := s.svc.GetProduct(ctx, req.GetProductId())
	if err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.GetProductResponse{Product: productToProto(p)}, nil
}

func (s *CatalogServer) ListProducts(ctx context.Context, req *billingv1.ListProductsRequest) (*billingv1.ListProductsResponse, error) {
	ps, next, err := s.svc.ListProducts(ctx, catalog.ListProductsParams{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
		GroupID: req.GetProductGroupId(), MetricKey: req.GetMetricKey(),
	})
	if err != nil {
		return nil, s.err(ctx, err)
	}
	out := &billingv1.ListProductsResponse{NextPageToken: next}
	for _, p := range ps {
		out.Products = append(out.Products, productToProto(p))
	}
	return out, nil
}

func (s *CatalogServer) UpdateProduct(ctx context.Context, req *billingv1.UpdateProductRequest) (*billingv1.UpdateProductResponse, error) {
	if req.GetProduct() == nil {
		return nil, s.err(ctx, required("product"))
	}
	p, err := s.svc.UpdateProduct(ctx, catalog.UpdateProductInput{Product: productFromProto(req.GetProduct()), UpdateMask: paths(req.GetUpdateMask())})
	if err != nil {
		return nil, s.err(ctx, within("product", err))
	}
	return &billingv1.UpdateProductResponse{Product: productToProto(p)}, nil
}

func (s *CatalogServer) DeleteProduct(ctx context.Context, req *billingv1.DeleteProductRequest) (*billingv1.DeleteProductResponse, error) {
	if err := s.svc.DeleteProduct(ctx, req.GetProductId()); err != nil {
		return nil, s.err(ctx, err)
	}
	return &billingv1.DeleteProductResponse{}, nil
}

func metricFromProto(m *billingv1.Metric) catalog.Metric {
	return catalog.Metric{
		Key: m.GetKey(), DisplayName: m.GetDisplayName(), Description: m.GetDescription(), Unit: m.GetUnit(),
		Aggregation: catalog.Aggregation(m.GetAggregation()), UniqueDimension: m.GetUniqueDimension(),
		Expression: m.GetExpression(),
	}
}

func metricToProto(m catalog.Metric) *billingv1.Metric {
	return &billingv1.Metric{
		Key: m.Key, DisplayName: m.DisplayName, Description: m.Description, Unit: m.Unit,
		Aggregation: billingv1.Aggregation(m.Aggregation), UniqueDimension: m.UniqueDimension,
		Expression: m.Expression, CreateTime: ts(m.CreateTime), UpdateTime: ts(m.UpdateTime),
	}
}

func groupFromProto(g *billingv1.ProductGroup) catalog.ProductGroup {
	return catalog.ProductGroup{ID: g.GetId(), DisplayName: g.GetDisplayName(), Description: g.GetDescription()}
}

func groupToProto(g catalog.ProductGroup) *billingv1.ProductGroup {
	return &billingv1.ProductGroup{
		Id: g.ID, DisplayName: g.DisplayName, Description: g.Description,
		CreateTime: ts(g.CreateTime), UpdateTime: ts(g.UpdateTime),
	}
}

func productFromProto(p *billingv1.Product) catalog.Product {
	return catalog.Product{
		ID: p.GetId(), GroupID: p.GetProductGroupId(), MetricKey: p.GetMetricKey(), DimensionFilter: p.GetDimensionFilter(),
		Unit: p.GetUnit(), DisplayName: p.GetDisplayName(), Description: p.GetDescription(),
		PeakBasis: catalog.PeakBasis(p.GetPeakBasis()),
	}
}

func productToProto(p catalog.Product) *billingv1.Product {
	return &billingv1.Product{
		Id: p.ID, ProductGroupId: p.GroupID, MetricKey: p.MetricKey, DimensionFilter: p.DimensionFilter,
		Unit: p.Unit, DisplayName: p.DisplayName, Description: p.Description,
		PeakBasis: billingv1.PeakBasis(p.PeakBasis), CreateTime: ts(p.CreateTime), UpdateTime: ts(p.UpdateTime),
	}
}
