package billing

import (
	"maps"
	"regexp"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/formula"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// rater is a Book ready to rate with: one engine per currency, what a
// customer's billing currency is decided by, and what lines are described
// with.
type rater struct {
	// engines holds, per currency, an engine with the price entries,
	// campaigns and contracts of that currency only; the engine of ""
	// prices nothing and rates customers without a billing currency.
	engines   map[string]*rating.Engine
	owners    map[string]*owner // by customer id; "" holds the default lists and campaigns
	metrics   map[string]*catalog.Metric
	products  map[string]*catalog.Product
	contracts map[string]*pricing.Contract
	lists     map[string]*pricing.PriceList
	keys      []string // metric keys, for the usage reader
	gauges    []string // metric keys whose point records are samples of a level
	pooled    []string // metric keys whose resources may be rated as one (see pooled)
	// raw: the catalog has derived metrics or customer-peak products, which
	// combine levels instant by instant, so usage is read as raw records
	// (an hourly rollup holds an hour's average, not its levels).
	raw  bool
	cuts cuts // where the book cuts usage off a UTC hour
	book Book // what the rater was built from
}

// owner is what one customer (or, for "", everyone) has in the price book,
// as far as billing currencies go.
type owner struct {
	lists, contractCurs, campaignCurs map[string]bool // currencies
	contracts                         []*pricing.Contract
	campaigns                         []*pricing.Campaign
}

func (r *rater) owner(id string) *owner {
	o := r.owners[id]
	if o == nil {
		o = &owner{lists: map[string]bool{}, contractCurs: map[string]bool{}, campaignCurs: map[string]bool{}}
		r.owners[id] = o
	}
	return o
}

// entryID names a price entry for the engine, which needs ids unique across
// lists; price ids are unique only within their list.
func entryID(listID, priceID string) string { return listID + "/" + priceID }

// priceID is the inverse of entryID.
func priceID(listID, entryID string) string {
	if len(entryID) > len(listID) && entryID[:len(listID)] == listID && entryID[len(listID)] == '/' {
		return entryID[len(listID)+1:]
	}
	return entryID
}

var aggregations = map[catalog.Aggregation]rating.Aggregation{
	catalog.AggregationSum:             rating.AggregationSum,
	catalog.AggregationMax:             rating.AggregationMax,
	catalog.AggregationTimeWeightedAvg: rating.AggregationTimeWeightedAvg,
	catalog.AggregationLatest:          rating.AggregationLatest,
	catalog.AggregationUniqueCount:     rating.AggregationUniqueCount,
}

// newRater converts b to the engines' configs, one per currency. The
// domain services keep the book valid, so an engine that refuses its config
// means the book holds something the engine cannot rate: that is reported
// as FailedPrecondition, with the engine's field paths, not as a bad query.
// Lists of one owner in different currencies are allowed by the domain and
// never meet in one engine.
func newRater(b Book) (*rater, error) {
	r := &rater{
		book: b, cuts: newCuts(b),
		engines: map[string]*rating.Engine{}, owners: map[string]*owner{},
		metrics: map[string]*catalog.Metric{}, products: map[string]*catalog.Product{},
		contracts: map[string]*pricing.Contract{}, lists: map[string]*pricing.PriceList{},
	}
	var catalogCfg rating.Config
	for i := range b.Metrics {
		m := &b.Metrics[i]
		r.metrics[m.Key] = m
		rm := rating.Metric{Key: m.Key, Aggregation: aggregations[m.Aggregation], UniqueDimension: m.UniqueDimension}
		if m.Derived() {
			// Checked at create; a formula that no longer compiles (an input
			// deleted behind the domain's back) fails the query with its reason.
			f, err := formula.Compile(m.Expression, nil)
			if err != nil {
				return nil, apperr.FailedPrecondition("metric %q: expression %q: %v", m.Key, m.Expression, err)
			}
			rm.Formula = f
			r.raw = true
		} else {
			r.keys = append(r.keys, m.Key)
			if m.Aggregation.Kind() == catalog.KindGauge {
				r.gauges = append(r.gauges, m.Key)
			}
			if pooled(m) {
				r.pooled = append(r.pooled, m.Key)
			}
		}
		catalogCfg.Metrics = append(catalogCfg.Metrics, rm)
	}
	for i := range b.Products {
		p := &b.Products[i]
		r.products[p.ID] = p
		peak := p.PeakBasis == catalog.PeakBasisCustomer
		r.raw = r.raw || peak
		catalogCfg.Products = append(catalogCfg.Products, rating.Product{ID: p.ID, GroupID: p.GroupID, MetricKey: p.MetricKey, DimensionFilter: p.DimensionFilter, CustomerPeak: peak})
	}
	cfgs := map[string]*rating.Config{"": &catalogCfg}
	cfg := func(currency string) *rating.Config {
		c := cfgs[currency]
		if c == nil {
			c = &rating.Config{Metrics: catalogCfg.Metrics, Products: catalogCfg.Products}
			cfgs[currency] = c
		}
		return c
	}
	for i := range b.PriceLists {
		l := &b.PriceLists[i]
		r.lists[l.ID] = l
		r.owner(l.CustomerID).lists[l.Currency] = true
		cfg(l.Currency) // a list without prices still has its currency's engine
	}
	for _, p := range b.Prices {
		l := r.lists[p.PriceListID]
		if l == nil {
			continue // a list deleted between the two reads of a snapshot cannot happen; be safe
		}
		e := rating.PriceEntry{
			ID: entryID(p.PriceListID, p.ID), ListID: p.PriceListID, CustomerID: l.CustomerID, Currency: l.Currency,
			ProductID: p.ProductID, UnitPrice: p.UnitPrice, Granularity: rating.Granularity(p.Granularity),
			ValidFrom: p.ValidFrom, ValidTo: p.ValidTo, MinimumCharge: p.MinimumCharge,
		}
		if len(p.Tiers) > 0 {
			t := &rating.Tiers{Mode: tierModes[p.TierMode]}
			for _, x := range p.Tiers {
				up := decimal.NullDecimal{Decimal: x.UpTo, Valid: !x.UpTo.IsZero()}
				t.Tiers = append(t.Tiers, rating.Tier{UpTo: up, UnitPrice: x.UnitPrice})
			}
			e.Tiers = t
		}
		c := cfg(l.Currency)
		c.Prices = append(c.Prices, e)
	}
	for i := range b.Campaigns {
		c := &b.Campaigns[i]
		o := r.owner(c.CustomerID)
		o.campaignCurs[c.Currency] = true
		o.campaigns = append(o.campaigns, c)
		rc := rating.Campaign{ID: c.ID, CustomerID: c.CustomerID, Currency: c.Currency, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, Priority: int(c.Priority)}
		for _, e := range c.Entries {
			rc.Entries = append(rc.Entries, rating.CampaignEntry{ProductID: e.ProductID, UnitPrice: e.UnitPrice, DiscountPercent: e.DiscountPercent})
		}
		x := cfg(c.Currency)
		x.Campaigns = append(x.Campaigns, rc)
	}
	for i := range b.Contracts {
		c := &b.Contracts[i]
		r.contracts[c.ID] = c
		o := r.owner(c.CustomerID)
		o.contractCurs[c.Currency] = true
		o.contracts = append(o.contracts, c)
		pr := rating.Proration(c.Proration)
		if c.Proration == pricing.ProrationUnspecified {
			pr = rating.ProrationNone
		}
		x := cfg(c.Currency)
		x.Contracts = append(x.Contracts, rating.Contract{
			ID: c.ID, CustomerID: c.CustomerID, ProductID: c.ProductID, Model: contractModels[c.Model],
			CommittedQuantity: c.CommittedQuantity, Fee: c.Fee, FeeGranularity: rating.Granularity(c.FeeGranularity),
			OverageUnitPrice: c.OverageUnitPrice.Decimal, Currency: c.Currency,
			Start: c.StartTime, End: c.EndTime, Proration: pr,
		})
	}
	// In currency order, the catalog alone ("") first, so that a problem
	// of the catalog is reported as such and the first error is always the same.
	for _, cur := range slices.Sorted(maps.Keys(cfgs)) {
		e, err := rating.New(*cfgs[cur])
		if err != nil {
			if ae, ok := apperr.As(err); ok && ae.Kind == apperr.KindInvalid {
				return nil, refused(ae, cfgs[cur], cur)
			}
			return nil, err
		}
		r.engines[cur] = e
	}
	return r, nil
}

var tierModes = map[pricing.TierMode]rating.TierMode{
	pricing.TierModeGraduated: rating.TierGraduated,
	pricing.TierModeVolume:    rating.TierVolume,
}

var contractModels = map[pricing.ContractModel]rating.ContractModel{
	pricing.ContractModelCommitted:        rating.ContractCommitted,
	pricing.ContractModelCommittedOverage: rating.ContractCommittedOverage,
}

// refused turns the engine's complaint about the config of currency cur
// ("" for the catalog alone) into FailedPrecondition, naming prices,
// campaigns and contracts by id instead of by their index in the config
// ("prices[3]" → "price default/gold").
func refused(ae *apperr.Error, cfg *rating.Config, cur string) error {
	name := func(s string) string {
		return configIndex.ReplaceAllStringFunc(s, func(m string) string {
			sub := configIndex.FindStringSubmatch(m)
			i, _ := strconv.Atoi(sub[2])
			switch {
			case sub[1] == "prices" && i < len(cfg.Prices):
				return "price " + cfg.Prices[i].ID
			case sub[1] == "campaigns" && i < len(cfg.Campaigns):
				return "campaign " + cfg.Campaigns[i].ID
			case sub[1] == "contracts" && i < len(cfg.Contracts):
				return "contract " + cfg.Contracts[i].ID
			case sub[1] == "products" && i < len(cfg.Products):
				return "product " + cfg.Products[i].ID
			case sub[1] == "metrics" && i < len(cfg.Metrics):
				return "metric " + cfg.Metrics[i].Key
			}
			return m
		})
	}
	what := "the catalog"
	if cur != "" {
		what = "the catalog and the " + cur + " price book"
	}
	var v apperr.Invalid
	for _, fv := range ae.Violations {
		v.Add(name(fv.Field), "%s", name(fv.Description))
	}
	out, _ := apperr.As(v.Err())
	if out == nil {
		return apperr.FailedPrecondition("%s cannot be rated: %s", what, name(ae.Message))
	}
	out.Kind = apperr.KindFailedPrecondition
	out.Message = what + " cannot be rated"
	return out
}

var configIndex = regexp.MustCompile(`(prices|campaigns|contracts|products|metrics)\[(\d+)\]`)
