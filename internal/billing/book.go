package billing

import (
	"regexp"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/pricing"
	"github.com/billingd/billingd/internal/rating"
)

// rater is a Book ready to rate with: the engine, and what lines are
// described with.
type rater struct {
	engine    *rating.Engine
	metrics   map[string]*catalog.Metric
	products  map[string]*catalog.Product
	contracts map[string]*pricing.Contract
	lists     map[string]*pricing.PriceList
	keys      []string // metric keys, for the usage reader
	gauges    []string // metric keys whose point records are samples of a level
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

// newRater converts b to the engine's config. The domain services keep the
// book valid, so an engine that refuses it means the book holds something
// the engine cannot rate (e.g. two lists of one owner in different
// currencies pricing the same product at the same time): that is reported
// as FailedPrecondition, with the engine's field paths, not as a bad query.
func newRater(b Book) (*rater, error) {
	r := &rater{
		metrics: map[string]*catalog.Metric{}, products: map[string]*catalog.Product{},
		contracts: map[string]*pricing.Contract{}, lists: map[string]*pricing.PriceList{},
	}
	var cfg rating.Config
	for i := range b.Metrics {
		m := &b.Metrics[i]
		r.metrics[m.Key] = m
		r.keys = append(r.keys, m.Key)
		if m.Aggregation.Kind() == catalog.KindGauge {
			r.gauges = append(r.gauges, m.Key)
		}
		cfg.Metrics = append(cfg.Metrics, rating.Metric{Key: m.Key, Aggregation: aggregations[m.Aggregation], UniqueDimension: m.UniqueDimension})
	}
	for i := range b.Products {
		p := &b.Products[i]
		r.products[p.ID] = p
		cfg.Products = append(cfg.Products, rating.Product{ID: p.ID, GroupID: p.GroupID, MetricKey: p.MetricKey, DimensionFilter: p.DimensionFilter})
	}
	for i := range b.PriceLists {
		r.lists[b.PriceLists[i].ID] = &b.PriceLists[i]
	}
	for _, p := range b.Prices {
		l := r.lists[p.PriceListID]
		if l == nil {
			continue // a list deleted between the two reads of a snapshot cannot happen; be safe
		}
		e := rating.PriceEntry{
			ID: entryID(p.PriceListID, p.ID), ListID: p.PriceListID, CustomerID: l.CustomerID, Currency: l.Currency,
			ProductID: p.ProductID, UnitPrice: p.UnitPrice, Granularity: rating.Granularity(p.Granularity),
			ValidFrom: p.ValidFrom, ValidTo: p.ValidTo,
		}
		if len(p.Tiers) > 0 {
			t := &rating.Tiers{Mode: tierModes[p.TierMode]}
			for _, x := range p.Tiers {
				up := decimal.NullDecimal{Decimal: x.UpTo, Valid: !x.UpTo.IsZero()}
				t.Tiers = append(t.Tiers, rating.Tier{UpTo: up, UnitPrice: x.UnitPrice})
			}
			e.Tiers = t
		}
		cfg.Prices = append(cfg.Prices, e)
	}
	for _, c := range b.Campaigns {
		rc := rating.Campaign{ID: c.ID, CustomerID: c.CustomerID, Currency: c.Currency, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, Priority: int(c.Priority)}
		for _, e := range c.Entries {
			rc.Entries = append(rc.Entries, rating.CampaignEntry{ProductID: e.ProductID, UnitPrice: e.UnitPrice, DiscountPercent: e.DiscountPercent})
		}
		cfg.Campaigns = append(cfg.Campaigns, rc)
	}
	for i := range b.Contracts {
		c := &b.Contracts[i]
		r.contracts[c.ID] = c
		pr := rating.Proration(c.Proration)
		if c.Proration == pricing.ProrationUnspecified {
			pr = rating.ProrationNone
		}
		cfg.Contracts = append(cfg.Contracts, rating.Contract{
			ID: c.ID, CustomerID: c.CustomerID, ProductID: c.ProductID, Model: contractModels[c.Model],
			CommittedQuantity: c.CommittedQuantity, Fee: c.Fee, FeeGranularity: rating.Granularity(c.FeeGranularity),
			OverageUnitPrice: c.OverageUnitPrice.Decimal, Currency: c.Currency,
			Start: c.StartTime, End: c.EndTime, Proration: pr,
		})
	}
	e, err := rating.New(cfg)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.KindInvalid {
			return nil, refused(ae, &cfg)
		}
		return nil, err
	}
	r.engine = e
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

// refused turns the engine's complaint about the config into
// FailedPrecondition, naming prices, campaigns and contracts by id instead
// of by their index in the config ("prices[3]" → "price default/gold").
func refused(ae *apperr.Error, cfg *rating.Config) error {
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
	var v apperr.Invalid
	for _, fv := range ae.Violations {
		v.Add(name(fv.Field), "%s", name(fv.Description))
	}
	out, _ := apperr.As(v.Err())
	if out == nil {
		return apperr.FailedPrecondition("the catalog and price book cannot be rated: %s", name(ae.Message))
	}
	out.Kind = apperr.KindFailedPrecondition
	out.Message = "the catalog and price book cannot be rated"
	return out
}

var configIndex = regexp.MustCompile(`(prices|campaigns|contracts|products|metrics)\[(\d+)\]`)
