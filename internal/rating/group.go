package rating

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/money"
	"github.com/shopspring/decimal"
)

// GroupKey is an attribute lines can be grouped by.
type GroupKey int32

const (
	GroupUnspecified GroupKey = iota
	GroupCustomer
	GroupOrganisation
	GroupVDC
	GroupSite
	GroupResource
	GroupProductGroup
	GroupProduct
	GroupModel
)

// Grouping says how GroupLines merges lines.
type Grouping struct {
	Keys       []GroupKey
	Dimensions []string // further dimension keys to keep and group by
	// Granularity of the time buckets (hour, day, month, period) in
	// Location; unspecified keeps each line's own interval.
	Granularity Granularity
	Location    *time.Location // nil means UTC
}

// GroupLines merges lines that agree on the selected keys, fall in the same
// time bucket and have the same price: the same model, currency, unit price,
// tier and price source (entry, list, campaign, contract). So every merged
// line still has exactly one unit price; since a price source belongs to one
// product, lines of different products (hence groups and models) never
// merge, whatever the keys. A merged line sums the exact quantities, spans
// from the earliest start to the latest end of the periods its price
// applied (see splitAtOtherPrices: where another price of the same product
// applied in between, it is split there), and its amount is rounded once
// from them: Amount = round(Quantity × UnitPrice), so every line a caller
// sees can be checked (and invoiced) as quantity × unit price, and nothing
// is rounded twice (the merged lines' own rounded amounts are discarded).
// Totals are sums of these lines, so two groupings of the same usage may
// differ by the rounding of their lines (e.g. 744 hourly lines of 0.004
// each are 0.00 apiece but one monthly line of 2.976 → 2.98). Attributes not
// selected are cleared (customer, resource, dimensions); lines keep their
// first-seen order.
func GroupLines(lines []Line, g Grouping) ([]Line, error) {
	var v apperr.Invalid
	sel := map[GroupKey]bool{}
	for i, k := range g.Keys {
		if k <= GroupUnspecified || k > GroupModel {
			v.Add("group_by["+strconv.Itoa(i)+"]", "unknown key %d", k)
		}
		sel[k] = true
	}
	if g.Granularity != GranularityUnspecified && !g.Granularity.valid() {
		v.Add("granularity", "unknown granularity %d", g.Granularity)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	loc := g.Location
	if loc == nil {
		loc = time.UTC
	}
	dims := make([]string, 0, 3+len(g.Dimensions))
	for k, d := range map[GroupKey]string{GroupOrganisation: DimOrganisation, GroupVDC: DimVDC, GroupSite: DimSite} {
		if sel[k] {
			dims = append(dims, d)
		}
	}
	dims = append(dims, g.Dimensions...)
	slices.Sort(dims)
	dims = slices.Compact(dims)

	type key struct {
		customer, resource, dims        string
		bucket, end                     int64
		product, group                  string
		model                           Model
		gran                            Granularity
		currency, price                 string
		entry, list, campaign, contract string
		tier                            int
	}
	index := map[key]int{}
	var out []Line
	merged := map[int]bool{}
	var (
		ids     []lineID          // per out line: what it is of, whatever its price
		firsts  []int             // per out line: the index in lines of its first line
		members = map[int][]int{} // per merged out line: the indices in lines of every line it merged
	)
	var b strings.Builder
	for i := range lines {
		l := &lines[i]
		k := key{
			product: l.ProductID, group: l.GroupID, model: l.Model, gran: l.Granularity,
			currency: l.Currency, price: canonical(l.UnitPrice), tier: l.Tier,
			entry: l.PriceEntryID, list: l.PriceListID, campaign: l.CampaignID, contract: l.ContractID,
		}
		if sel[GroupCustomer] {
			k.customer = l.CustomerID
		}
		if sel[GroupResource] {
			k.resource = l.ResourceID
		}
		b.Reset()
		for _, d := range dims {
			if val, ok := l.Dimensions[d]; ok {
				b.WriteString(d)
				b.WriteByte('=')
				b.WriteString(val)
			}
			b.WriteByte(0)
		}
		k.dims = b.String()
		switch g.Granularity {
		case GranularityUnspecified:
			k.bucket, k.end = l.Start.UnixNano(), l.End.UnixNano()
		case GranularityPeriod:
		default:
			k.bucket = granuleStart(l.Start, g.Granularity, loc).UnixNano()
		}
		if j, ok := index[k]; ok {
			m := &out[j]
			m.Quantity = m.Quantity.Add(l.Quantity)
			merged[j] = true
			if members[j] == nil {
				members[j] = []int{firsts[j]}
			}
			members[j] = append(members[j], i)
			if l.Start.Before(m.Start) {
				m.Start = l.Start
			}
			if l.End.After(m.End) {
				m.End = l.End
			}
			continue
		}
		m := *l
		m.CustomerID, m.ResourceID = k.customer, k.resource
		m.Dimensions = nil
		for _, d := range dims {
			if val, ok := l.Dimensions[d]; ok {
				if m.Dimensions == nil {
					m.Dimensions = map[string]string{}
				}
				m.Dimensions[d] = val
			}
		}
		if g.Granularity > m.Granularity {
			m.Granularity = g.Granularity
		}
		index[k] = len(out)
		ids = append(ids, lineID{customer: k.customer, resource: k.resource, dims: k.dims, bucket: k.bucket, end: k.end, product: k.product})
		firsts = append(firsts, i)
		out = append(out, m)
	}
	out, merged = splitAtOtherPrices(lines, out, ids, firsts, members, merged)
	for j := range merged {
		m := &out[j]
		cur, ok := money.Lookup(m.Currency)
		if !ok {
			return nil, apperr.InvalidField("currency", "unknown currency %q", m.Currency)
		}
		m.Amount = cur.Round(m.Quantity.Mul(m.UnitPrice))
	}
	return out, nil
}

// canonical is a decimal's value as a string, independent of its exponent
// (1.5 and 1.50 are the same price).
func canonical(d decimal.Decimal) string {
	n := d.Normalize()
	return n.Coefficient().String() + "e" + strconv.Itoa(int(n.Exponent()))
}
