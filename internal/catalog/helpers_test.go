package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/resource/resourcetest"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newService returns a service over a fresh database, its store and its clock.
func newService(t *testing.T) (*catalog.Service, *postgres.Store, *clock.Fake) {
	t.Helper()
	s := pgtest.NewStore(t)
	c := clock.NewFake(t0)
	return catalog.New(s.Catalog(), c), s, c
}

// The assertions every domain package's tests share.
var (
	must       = resourcetest.Must
	wantKind   = resourcetest.WantKind
	wantFields = resourcetest.WantFields
	same       = resourcetest.Same
)

func vcpu() catalog.Metric {
	return catalog.Metric{Key: "vm.vcpu", DisplayName: "vCPU", Unit: "vCPU", Aggregation: catalog.AggregationTimeWeightedAvg}
}

// seed creates metric vm.vcpu and group "compute".
func seed(t *testing.T, svc *catalog.Service) {
	t.Helper()
	_, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: vcpu()})
	must(t, err)
	_, err = svc.CreateProductGroup(ctx, catalog.CreateProductGroupInput{Group: catalog.ProductGroup{ID: "compute", DisplayName: "Compute"}})
	must(t, err)
}
