package billing

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/rating"
)

// sortLines puts lines in the order results are returned in, which depends
// on nothing but the lines: customer, product group, product, model, then
// organisation, VDC, site, resource and the grouped dimensions (in dims
// order), then time, and last what tells apart lines of the same product
// and time (tier, currency, unit price, contract, campaign, price entry).
func sortLines(lines []rating.Line, dims []string) {
	slices.SortFunc(lines, func(a, b rating.Line) int {
		if c := cmp.Compare(a.CustomerID, b.CustomerID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.GroupID, b.GroupID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ProductID, b.ProductID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Model, b.Model); c != 0 {
			return c
		}
		for _, k := range []string{rating.DimOrganisation, rating.DimVDC, rating.DimSite} {
			if c := cmp.Compare(a.Dimensions[k], b.Dimensions[k]); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.ResourceID, b.ResourceID); c != 0 {
			return c
		}
		for _, k := range dims {
			if c := cmp.Compare(a.Dimensions[k], b.Dimensions[k]); c != 0 {
				return c
			}
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := a.End.Compare(b.End); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Tier, b.Tier); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Currency, b.Currency); c != 0 {
			return c
		}
		if c := a.UnitPrice.Cmp(b.UnitPrice); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ContractID, b.ContractID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.CampaignID, b.CampaignID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.PriceListID, b.PriceListID); c != 0 {
			return c
		}
		return cmp.Compare(a.PriceEntryID, b.PriceEntryID)
	})
}

// totals sums line amounts and counts lines per currency across batches.
// The amounts of a batch are summed by the engine's Totals, which adds the
// rounded amounts exactly and never rounds again.
type totals map[string]*Total

func (t *totals) add(lines []rating.Line) {
	if len(lines) == 0 {
		return
	}
	if *t == nil {
		*t = totals{}
	}
	counts := map[string]int{}
	for i := range lines {
		counts[lines[i].Currency]++
	}
	for _, x := range rating.Totals(lines) {
		cur := (*t)[x.Currency]
		if cur == nil {
			cur = &Total{Currency: x.Currency, Amount: decimal.Zero}
			(*t)[x.Currency] = cur
		}
		cur.Amount = cur.Amount.Add(x.Amount)
		cur.Lines += counts[x.Currency]
	}
}

func (t totals) list() []Total {
	out := make([]Total, 0, len(t))
	for _, x := range t {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b Total) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// describer adds the metric, unit and description to lines. Descriptions
// repeat across lines, so each is built once and shared.
type describer struct {
	r     *rater
	cache map[descKey]descr
}

type descKey struct {
	product, contract string
	model             rating.Model
	tier              int
}

type descr struct{ metric, unit, text string }

func newDescriber(r *rater) *describer { return &describer{r: r, cache: map[descKey]descr{}} }

func (d *describer) describe(lines []rating.Line) []Line {
	out := make([]Line, len(lines))
	for i := range lines {
		out[i] = d.line(lines[i], lines[i].Model)
	}
	return out
}

// line describes l as a line of the given model (an adjustment is described
// as the model of the lines it corrects).
func (d *describer) line(l rating.Line, model rating.Model) Line {
	k := descKey{l.ProductID, l.ContractID, model, l.Tier}
	x, ok := d.cache[k]
	if !ok {
		x = d.build(k)
		d.cache[k] = x
	}
	out := Line{Line: l, MetricKey: x.metric, Unit: x.unit, Description: x.text}
	if l.PriceEntryID != "" {
		out.PriceID = priceID(l.PriceListID, l.PriceEntryID)
	}
	return out
}

// build describes a line as the product's display name and how it was
// rated: "Storage Gold", "Storage Gold — tier 2", "Storage Gold —
// committed 100 GB", "Storage Gold — overage above 100 GB", "Storage Gold —
// above the commitment of 100 GB" (excess over a plain commitment),
// "Storage Gold — minimum charge".
func (d *describer) build(k descKey) descr {
	var x descr
	name := k.product
	if p := d.r.products[k.product]; p != nil {
		x.metric, x.unit = p.MetricKey, p.Unit
		if p.DisplayName != "" {
			name = p.DisplayName
		}
		if x.unit == "" {
			if m := d.r.metrics[p.MetricKey]; m != nil {
				x.unit = m.Unit
			}
		}
	}
	var b strings.Builder
	b.WriteString(name)
	commitment := ""
	if c := d.r.contracts[k.contract]; c != nil {
		commitment = strings.TrimSpace(c.CommittedQuantity.String() + " " + x.unit)
		if k.model == rating.ModelCommitted {
			x.unit = rating.Granularity(c.FeeGranularity).String()
		}
	}
	switch {
	case k.model == rating.ModelMinimum:
		x.unit = "month" // one month topped up; its unit price is the top-up
		b.WriteString(" — minimum charge")
	case k.model == rating.ModelCommitted:
		b.WriteString(" — committed " + commitment)
	case k.model == rating.ModelOverage:
		b.WriteString(" — overage above " + commitment)
	case k.contract != "":
		b.WriteString(" — above the commitment of " + commitment)
	}
	if k.tier > 0 {
		b.WriteString(" — tier " + strconv.Itoa(k.tier))
	}
	x.text = strings.TrimSpace(b.String())
	return x
}
