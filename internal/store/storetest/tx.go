package storetest

import (
	"errors"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
)

func testRequestLog(t *testing.T, s Stores) {
	const id = "0190f7c6-8a3e-7cc1-b2b0-5c1d8a2f0e11"
	_, _, found, err := s.Catalog.LookupRequest(ctx, id)
	must(t, err)
	same(t, found, false)
	must(t, s.Catalog.SaveRequest(ctx, id, "metric", "vm.vcpu"))
	wantKind(t, s.Pricing.SaveRequest(ctx, id, "price", "l/p"), apperr.KindAlreadyExists)
	kind, res, found, err := s.Customers.LookupRequest(ctx, id)
	must(t, err)
	same(t, []any{kind, res, found}, []any{"metric", "vm.vcpu", true})
}

func testTransactions(t *testing.T, s Stores) {
	boom := errors.New("boom")
	err := s.Catalog.InTx(ctx, func(tx catalog.Repository) error {
		must(t, tx.CreateProductGroup(ctx, group("rolled-back")))
		if _, err := tx.GetProductGroup(ctx, "rolled-back"); err != nil { // visible inside
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	_, err = s.Catalog.GetProductGroup(ctx, "rolled-back")
	wantKind(t, err, apperr.KindNotFound)

	// A failed statement aborts the transaction; nothing of it is kept.
	err = s.Catalog.InTx(ctx, func(tx catalog.Repository) error {
		must(t, tx.CreateProductGroup(ctx, group("first")))
		return tx.CreateProductGroup(ctx, group("first"))
	})
	wantKind(t, err, apperr.KindAlreadyExists)
	_, err = s.Catalog.GetProductGroup(ctx, "first")
	wantKind(t, err, apperr.KindNotFound)

	must(t, s.Catalog.InTx(ctx, func(tx catalog.Repository) error {
		return tx.CreateProductGroup(ctx, group("kept"))
	}))
	_, err = s.Catalog.GetProductGroup(ctx, "kept")
	must(t, err)
}
