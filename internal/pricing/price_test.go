package pricing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/pricing"
)

func hourly(id string, from, to time.Time) pricing.Price {
	return pricing.Price{PriceListID: "eur", ID: id, ProductID: "p1", UnitPrice: dec("0.0125"),
		Granularity: pricing.GranularityHour, ValidFrom: from, ValidTo: to}
}

func tiered() pricing.Price {
	p := hourly("tiered", day(0), time.Time{})
	p.UnitPrice = dec("0")
	p.TierMode = pricing.TierModeGraduated
	p.Tiers = []pricing.Tier{{UpTo: dec("10"), UnitPrice: dec("1")}, {UpTo: dec("100"), UnitPrice: dec("0.8")}, {UnitPrice: dec("0.5")}}
	return p
}

func TestPriceCRUD(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	p, err := svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: tiered()})
	must(t, err)
	got, err := svc.GetPrice(ctx, "eur", "tiered")
	must(t, err)
	same(t, got, p)

	// A client's time zone and sub-microsecond digits are normalised away.
	ams := time.FixedZone("CET", 3600)
	q := hourly("", time.Date(2025, 1, 1, 1, 0, 0, 999, ams), day(0))
	q, err = svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: q})
	must(t, err)
	same(t, q.ValidFrom, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	got, _ = svc.GetPrice(ctx, "eur", q.ID)
	same(t, got, q)

	upd := pricing.Price{PriceListID: "eur", ID: q.ID, UnitPrice: dec("0.02"), Granularity: pricing.GranularityDay}
	q, err = svc.UpdatePrice(ctx, pricing.UpdatePriceInput{Price: upd, UpdateMask: []string{"unit_price", "granularity"}})
	must(t, err)
	same(t, []any{q.UnitPrice, q.Granularity, q.ValidTo}, []any{dec("0.02"), pricing.GranularityDay, day(0)})
	_, err = svc.UpdatePrice(ctx, pricing.UpdatePriceInput{Price: pricing.Price{PriceListID: "eur", ID: q.ID, ProductID: "p2"}, UpdateMask: []string{"product_id"}})
	wantFields(t, err, "update_mask")

	ps, _, err := svc.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "eur", ProductID: "p1"})
	must(t, err)
	same(t, len(ps), 2)
	_, _, err = svc.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "nope"})
	wantKind(t, err, apperr.KindNotFound)

	wantKind(t, svc.DeletePriceList(ctx, "eur"), apperr.KindFailedPrecondition)
	must(t, svc.DeletePrice(ctx, "eur", q.ID))
	_, err = svc.GetPrice(ctx, "eur", q.ID)
	wantKind(t, err, apperr.KindNotFound)
}

func TestPriceValidation(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	for _, tc := range []struct {
		name   string
		edit   func(p *pricing.Price)
		fields []string
	}{
		{"no list", func(p *pricing.Price) { p.PriceListID = "" }, []string{"price_list_id"}},
		{"no product", func(p *pricing.Price) { p.ProductID = "" }, []string{"product_id"}},
		{"negative unit price", func(p *pricing.Price) { p.Tiers, p.TierMode, p.UnitPrice = nil, 0, dec("-0.01") }, []string{"unit_price"}},
		{"no granularity", func(p *pricing.Price) { p.Granularity = 0 }, []string{"granularity"}},
		{"no valid_from", func(p *pricing.Price) { p.ValidFrom = time.Time{} }, []string{"valid_from"}},
		{"valid_to not after valid_from", func(p *pricing.Price) { p.ValidTo = p.ValidFrom }, []string{"valid_to"}},
		{"tiers without mode", func(p *pricing.Price) { p.TierMode = 0 }, []string{"tier_mode"}},
		{"mode without tiers", func(p *pricing.Price) { p.Tiers = nil }, []string{"tier_mode"}},
		{"unit price with tiers", func(p *pricing.Price) { p.UnitPrice = dec("1") }, []string{"unit_price"}},
		{"tiers not increasing", func(p *pricing.Price) { p.Tiers[1].UpTo = dec("10") }, []string{"tiers[1].up_to"}},
		{"unbounded middle tier", func(p *pricing.Price) { p.Tiers[1].UpTo = dec("0") }, []string{"tiers[1].up_to"}},
		{"bounded last tier", func(p *pricing.Price) { p.Tiers[2].UpTo = dec("1000") }, []string{"tiers[2].up_to"}},
		{"negative tier price", func(p *pricing.Price) { p.Tiers[0].UnitPrice = dec("-1") }, []string{"tiers[0].unit_price"}},
		{"too many tiers", func(p *pricing.Price) {
			p.Tiers = nil
			for i := range 33 {
				p.Tiers = append(p.Tiers, pricing.Tier{UpTo: dec(fmt.Sprint(i + 1)), UnitPrice: dec("1")})
			}
			p.Tiers[32].UpTo = dec("0")
		}, []string{"tiers"}},
		{"several", func(p *pricing.Price) { p.Granularity, p.Tiers[0].UpTo = 0, dec("-5") }, []string{"granularity", "tiers[0].up_to"}},
	} {
		p := tiered()
		tc.edit(&p)
		_, err := svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: p})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}
	p := tiered()
	p.ProductID = "nope"
	_, err := svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: p})
	wantKind(t, err, apperr.KindNotFound)
	p = tiered()
	p.PriceListID = "nope"
	_, err = svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: p})
	wantKind(t, err, apperr.KindNotFound)

	ps, _, err := svc.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "eur"})
	must(t, err)
	same(t, len(ps), 0)
}

func TestPriceOverlap(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	create := func(p pricing.Price) error {
		_, err := svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: p})
		return err
	}
	must(t, create(hourly("jan", day(0), day(31))))
	must(t, create(hourly("feb", day(31), day(59)))) // [a,b) then [b,c) touch, no overlap
	must(t, create(hourly("later", day(90), time.Time{})))
	other := hourly("p2-jan", day(0), day(31))
	other.ProductID = "p2" // another product may share the window
	must(t, create(other))

	err := create(hourly("mid", day(10), day(40)))
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), `"jan"`) || !strings.Contains(err.Error(), "2026-03-01T12:00:00Z") {
		t.Fatalf("message %q does not name the other price and its window", err)
	}
	err = create(hourly("open", day(100), time.Time{}))
	wantKind(t, err, apperr.KindFailedPrecondition)
	if !strings.Contains(err.Error(), `"later"`) {
		t.Fatalf("message %q does not name the other price", err)
	}

	// Moving a window onto another price is refused too; the failed update changes nothing.
	_, err = svc.UpdatePrice(ctx, pricing.UpdatePriceInput{Price: pricing.Price{PriceListID: "eur", ID: "feb", ValidTo: day(91)}, UpdateMask: []string{"valid_to"}})
	wantKind(t, err, apperr.KindFailedPrecondition)
	got, _ := svc.GetPrice(ctx, "eur", "feb")
	same(t, got.ValidTo, day(59))
	_, err = svc.UpdatePrice(ctx, pricing.UpdatePriceInput{Price: pricing.Price{PriceListID: "eur", ID: "feb", ValidTo: day(90)}, UpdateMask: []string{"valid_to"}})
	must(t, err)
}

func TestPricePaginationAndRequestID(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	seed(t, svc, store)
	for i := range 7 {
		_, err := svc.CreatePrice(ctx, pricing.CreatePriceInput{Price: hourly(fmt.Sprintf("m%d", i), day(10*i), day(10*i+10))})
		must(t, err)
	}
	var sizes []int
	token := ""
	for {
		ps, next, err := svc.ListPrices(ctx, pricing.ListPricesParams{PriceListID: "eur", PageSize: 3, PageToken: token})
		must(t, err)
		sizes = append(sizes, len(ps))
		if next == "" {
			break
		}
		token = next
	}
	same(t, sizes, []int{3, 3, 1})

	const rid = "0190f7c6-8a3e-7cc1-b2b0-5c1d8a2f0e11"
	in := pricing.CreatePriceInput{Price: hourly("", day(200), day(201)), RequestID: rid}
	first, err := svc.CreatePrice(ctx, in)
	must(t, err)
	again, err := svc.CreatePrice(ctx, in) // would overlap if it were created again
	must(t, err)
	same(t, again, first)
}
