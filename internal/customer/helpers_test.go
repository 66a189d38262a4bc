package customer_test

import (
	"context"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/resource/resourcetest"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func newService(t *testing.T) (*customer.Service, *postgres.Store) {
	t.Helper()
	s := pgtest.NewStore(t)
	return customer.New(s.Customers(), clock.NewFake(t0)), s
}

// The assertions every domain package's tests share.
var (
	must       = resourcetest.Must
	wantKind   = resourcetest.WantKind
	wantFields = resourcetest.WantFields
	same       = resourcetest.Same
)

func acme() customer.Customer {
	return customer.Customer{ID: "acme", ExternalID: "ERP-1", DisplayName: "Acme", Labels: map[string]string{"segment": "smb"}}
}
