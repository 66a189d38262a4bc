package customer_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/customer"
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, want apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != want {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, want)
	}
}

// wantFields fails unless err is Invalid with violations on exactly these fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("error = %v, want Invalid on %v", err, fields)
	}
	var got []string
	for _, v := range e.Violations {
		if !slices.Contains(got, v.Field) {
			got = append(got, v.Field)
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("violations on %v, want %v (%v)", got, fields, err)
	}
}

func same(t *testing.T, got, want any) {
	t.Helper()
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

func acme() customer.Customer {
	return customer.Customer{ID: "acme", ExternalID: "ERP-1", DisplayName: "Acme", Labels: map[string]string{"segment": "smb"}}
}
