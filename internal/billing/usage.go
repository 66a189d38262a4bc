package billing

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/rating"
)

// seriesBuilder gathers a customer's usage records into rating series (see
// the package documentation for what each kind of record becomes).
type seriesBuilder struct {
	r      *rater
	end    time.Time // end of the rated period: where the last sample's level stops
	pool   bool      // rate the series of a linear metric that differ only in resource as one (see pooled)
	hours  int       // in the rated period: the pieces a pool fed by pooled hours gets
	byKey  map[string]*series
	order  []*series
	key    []byte
	dims   map[string]map[string]string // dimension maps by their jsonb text and the three columns
	values map[string]decimal.Decimal   // parsed quantities by text; most usage repeats a few values
}

type series struct {
	rating.Series
	agg         rating.Aggregation
	uniqueValue string // unique_count: the series' value of the counted dimension
	samples     []rating.Sample
	received    []time.Time // of each sample
	hours       []hourSamples
	// into is the pool a resource's gauge samples belong to: their levels
	// hold per resource, so they become pieces here and join the pool's.
	into *series
}

// hourSamples are the point samples of a series inside one hour, from an
// hourly rollup: the first at first, the last (last) at lastAt, and the
// integral and max of the levels in between.
type hourSamples struct {
	first, lastAt time.Time
	inner         bool // more than one sample: innerIntegral, innerMax are set
	innerIntegral decimal.Decimal
	innerMax      decimal.Decimal
	last          decimal.Decimal
}

// maxCachedValues bounds the quantity cache of one customer.
const maxCachedValues = 4096

func newSeriesBuilder(r *rater, from, end time.Time, pool bool) *seriesBuilder {
	return &seriesBuilder{
		r: r, end: end, pool: pool, hours: int(end.Sub(from)/time.Hour) + 1, byKey: map[string]*series{},
		dims: map[string]map[string]string{}, values: map[string]decimal.Decimal{},
	}
}

// add turns one record into a piece (or a sample) of its series.
func (b *seriesBuilder) add(u *UsageRow) error {
	m := b.r.metrics[string(u.MetricKey)]
	pool := b.pool && pooled(m)
	point := !u.End.After(u.Start)
	// A gauge's samples are levels that hold per resource until its next
	// sample: they (and an hour's worth of them) go to a series of their
	// resource, whose pieces join the pool's when it is built.
	perResource := pool && m.Aggregation.Kind() == catalog.KindGauge && (u.Hourly && !u.Hour.LastAt.IsZero() || !u.Hourly && point)
	s, err := b.seriesOf(u, pool && !perResource)
	if err != nil {
		return err
	}
	if perResource && s.into == nil {
		if s.into, err = b.seriesOf(u, true); err != nil {
			return err
		}
	}
	if u.Pooled {
		return b.addPooled(s, u)
	}
	if u.Hourly {
		return b.addHour(s, u)
	}
	q, err := b.quantity(u.Quantity)
	if err != nil {
		return err
	}
	switch s.agg {
	case rating.AggregationSum:
		if point {
			s.Pieces = append(s.Pieces, rating.CounterPiece(u.Start, q))
		} else {
			s.Pieces = append(s.Pieces, rating.Piece{Start: u.Start, End: u.End, Sum: q, Max: q, Last: q})
		}
	case rating.AggregationUniqueCount:
		p := rating.Piece{Start: u.Start, End: u.End, Max: q, Last: q}
		if point {
			p.End = p.Start
		}
		if s.uniqueValue != "" {
			p.Unique = []string{s.uniqueValue}
		}
		s.Pieces = append(s.Pieces, p)
	default: // gauges
		if point {
			s.samples = append(s.samples, rating.Sample{At: u.Start, Value: q})
			s.received = append(s.received, u.Received)
		} else {
			// A level beyond the period is not rated: cut it there.
			end := u.End
			if end.After(b.end) {
				end = b.end
			}
			s.Pieces = append(s.Pieces, rating.Piece{
				Start: u.Start, End: end, Integral: q.Mul(seconds(end.Sub(u.Start))), Max: q, Last: q,
			})
		}
	}
	return nil
}

// addHour turns an hourly rollup into pieces that rate like the records
// it sums up, on granules and price segments that start and end on UTC
// hours (which the store guarantees when it hands over rollups): a piece
// over the hour for the records inside it (Sum, or Integral, Max and the
// Last of the interval that starts last, or the unique value), and for
// gauge samples what build composes with the neighbouring hours.
func (b *seriesBuilder) addHour(s *series, u *UsageRow) error {
	h := &u.Hour
	hour := rating.Piece{Start: u.Start, End: u.End}
	switch s.agg {
	case rating.AggregationSum:
		if h.Sum == nil {
			return nil
		}
		q, err := b.quantity(h.Sum)
		if err != nil {
			return err
		}
		hour.Sum = q
		s.Pieces = append(s.Pieces, hour)
	case rating.AggregationUniqueCount:
		if h.Sum == nil {
			return nil
		}
		if s.uniqueValue != "" {
			hour.Unique = []string{s.uniqueValue}
		}
		s.Pieces = append(s.Pieces, hour)
	default: // gauges
		if h.Integral != nil {
			var err error
			if hour.Integral, err = b.quantity(h.Integral); err != nil {
				return err
			}
			if hour.Max, err = b.quantity(h.Max); err != nil {
				return err
			}
			if hour.Last, err = b.quantity(h.LastValue); err != nil {
				return err
			}
			hour.LastAt = h.LastStart
			s.Pieces = append(s.Pieces, hour)
		}
		if !h.LastAt.IsZero() {
			hs := hourSamples{first: h.FirstAt, lastAt: h.LastAt}
			var err error
			if hs.last, err = b.quantity(h.LastSample); err != nil {
				return err
			}
			if h.InnerIntegral != nil {
				hs.inner = true
				if hs.innerIntegral, err = b.quantity(h.InnerIntegral); err != nil {
					return err
				}
				if hs.innerMax, err = b.quantity(h.InnerMax); err != nil {
					return err
				}
			}
			s.hours = append(s.hours, hs)
		}
	}
	return nil
}

// seriesOf is the series u belongs to: of its resource, or, pooled, of
// every resource with the same metric, organisation, VDC, site and
// dimensions.
func (b *seriesBuilder) seriesOf(u *UsageRow, pooled bool) (*series, error) {
	b.key = b.key[:0]
	if pooled {
		b.key = append(b.key, 1) // never equal to a resource's key, which starts with the metric
	}
	for i, f := range [][]byte{u.MetricKey, u.ResourceID, u.OrganisationID, u.VDCID, u.Site, u.Dimensions} {
		if i == 1 && pooled {
			continue
		}
		b.key = append(b.key, f...)
		b.key = append(b.key, 0)
	}
	if s := b.byKey[string(b.key)]; s != nil { // no allocation for the lookup
		return s, nil
	}
	s, err := b.newSeries(u)
	if err != nil {
		return nil, err
	}
	if pooled {
		s.ResourceID = ""
	}
	b.byKey[string(b.key)] = s
	b.order = append(b.order, s)
	return s, nil
}

// addPooled turns a store's pooled hour (UsageRow.Pooled) into a piece
// over the hour that rates like the records it sums up. The engine takes
// the Max of a piece that holds one level over a whole granule instead of
// dividing its integral (rating's constant pieces), as it does for one
// record over the whole hour, so the piece of one record keeps its level
// as Max; a sum of several records is never taken for one level (their
// own pieces are divided, to RatioPlaces).
func (b *seriesBuilder) addPooled(s *series, u *UsageRow) error {
	if s.Pieces == nil {
		// a piece per hour, and pieces are large: grown by append, copying
		// them cost a quarter of a pooled query
		s.Pieces = make([]rating.Piece, 0, b.hours)
	}
	h := &u.Hour
	p := rating.Piece{Start: u.Start, End: u.End}
	var err error
	switch s.agg {
	case rating.AggregationSum:
		if p.Sum, err = parseQuantity(h.Sum); err != nil {
			return err
		}
	default: // time_weighted_avg
		if h.Integral == nil {
			return nil // point records only: no level of its own (the store reads sampled hours raw)
		}
		if p.Integral, err = parseQuantity(h.Integral); err != nil {
			return err
		}
		if h.Records == 1 {
			if p.Max, err = b.quantity(h.Sum); err != nil {
				return err
			}
			p.Last, p.LastAt = p.Max, u.Start
		}
	}
	s.Pieces = append(s.Pieces, p)
	return nil
}

// pooled reports whether series of m that differ only in their resource
// may be rated as one: m adds up linearly over resources (a sum, or a
// time-weighted average: ∫ of the sum = Σ of the ∫s) and is read as
// records (not derived from others).
func pooled(m *catalog.Metric) bool {
	return m != nil && !m.Derived() &&
		(m.Aggregation == catalog.AggregationSum || m.Aggregation == catalog.AggregationTimeWeightedAvg)
}

func (b *seriesBuilder) newSeries(u *UsageRow) (*series, error) {
	m := b.r.metrics[string(u.MetricKey)]
	if m == nil {
		return nil, apperr.New(apperr.KindInternal, "usage of metric %q that the catalog does not have", u.MetricKey)
	}
	dims, err := b.dimensions(u)
	if err != nil {
		return nil, err
	}
	s := &series{Series: rating.Series{MetricKey: m.Key, ResourceID: string(u.ResourceID), Dimensions: dims}, agg: aggregations[m.Aggregation]}
	if s.agg == rating.AggregationUniqueCount {
		s.uniqueValue = dims[m.UniqueDimension]
		if s.uniqueValue == "" && m.UniqueDimension == dimResourceID {
			s.uniqueValue = s.ResourceID
		}
	}
	return s, nil
}

// dimensions is the series' dimension map: the record's dimensions plus the
// organisation, VDC and site columns under their well-known keys (a column
// that is set wins over a dimension of the same name). Equal maps are
// shared, read only, by series and lines.
func (b *seriesBuilder) dimensions(u *UsageRow) (map[string]string, error) {
	k := string(u.Dimensions) + "\x00" + string(u.OrganisationID) + "\x00" + string(u.VDCID) + "\x00" + string(u.Site)
	if d, ok := b.dims[k]; ok {
		return d, nil
	}
	d := map[string]string{}
	if len(u.Dimensions) > 0 {
		if err := json.Unmarshal(u.Dimensions, &d); err != nil {
			return nil, apperr.Wrap(apperr.KindInternal, err, "usage dimensions are not a JSON object of strings")
		}
	}
	for _, c := range []struct {
		key string
		val []byte
	}{{rating.DimOrganisation, u.OrganisationID}, {rating.DimVDC, u.VDCID}, {rating.DimSite, u.Site}} {
		if len(c.val) > 0 {
			d[c.key] = string(c.val)
		}
	}
	b.dims[k] = d
	return d, nil
}

// dimResourceID as the unique dimension of a unique_count metric counts
// distinct resource ids, unless the records carry a dimension of that name.
const dimResourceID = "resource_id"

func (b *seriesBuilder) quantity(text []byte) (decimal.Decimal, error) {
	if d, ok := b.values[string(text)]; ok {
		return d, nil
	}
	d, err := parseQuantity(text)
	if err == nil && len(b.values) < maxCachedValues {
		b.values[string(text)] = d
	}
	return d, err
}

// parseQuantity parses a decimal the store hands over; sums of a pool's
// records rarely repeat, so they bypass the builder's cache.
func parseQuantity(text []byte) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(string(text))
	if err != nil {
		return d, apperr.Wrap(apperr.KindInternal, err, "usage quantity %q is not a decimal", text)
	}
	return d, nil
}

// build returns the series in first-seen order; gauge samples become
// pieces that hold until the next sample or the end of the period.
func (b *seriesBuilder) build() []rating.Series {
	out := make([]rating.Series, 0, len(b.order))
	for _, s := range b.order {
		if len(s.hours) > 0 {
			s.Pieces = append(s.Pieces, s.hourPieces(b.end)...)
		} else if len(s.samples) > 0 {
			s.orderSamples()
			ps := rating.GaugePieces(s.samples, b.end)
			if len(s.Pieces) == 0 {
				s.Pieces = ps
			} else {
				s.Pieces = append(s.Pieces, ps...)
			}
		}
		if s.into != nil {
			s.into.Pieces = append(s.into.Pieces, s.Pieces...)
		}
	}
	for _, s := range b.order {
		if s.into == nil {
			out = append(out, s.Series)
		}
	}
	return out
}

// orderSamples sorts samples by time, then receive time, then value, so
// that of two samples at one instant GaugePieces keeps the one received
// last (the larger value on a tie) whatever order the store read them in.
func (s *series) orderSamples() {
	cmpAt := func(a, b int) int {
		if c := s.samples[a].At.Compare(s.samples[b].At); c != 0 {
			return c
		}
		if c := s.received[a].Compare(s.received[b]); c != 0 {
			return c
		}
		return s.samples[a].Value.Cmp(s.samples[b].Value)
	}
	sorted := true
	for i := 1; i < len(s.samples) && sorted; i++ {
		sorted = cmpAt(i-1, i) <= 0
	}
	if sorted {
		return
	}
	idx := make([]int, len(s.samples))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, cmpAt)
	out := make([]rating.Sample, len(idx))
	for i, j := range idx {
		out[i] = s.samples[j]
	}
	s.samples = out
}

// seconds converts a duration to exact decimal seconds.
func seconds(d time.Duration) decimal.Decimal { return decimal.New(int64(d), -9) }

// hourPieces composes the pieces of a gauge's samples from hourly rollups
// and raw samples (the one carried into the period): per hour a piece
// from its first to its last sample with their integral and max, and from
// each hour's last sample a piece at its level until the first sample of
// the next sampled hour, or end — the pieces GaugePieces makes of the raw
// samples, with those between the first and last sample of an hour
// summed into one.
func (s *series) hourPieces(end time.Time) []rating.Piece {
	hs := s.hours
	if len(s.samples) > 0 {
		s.orderSamples()
		for i, x := range s.samples {
			if i+1 < len(s.samples) && s.samples[i+1].At.Equal(x.At) {
				continue // superseded by a later sample at the same instant
			}
			hs = append(hs, hourSamples{first: x.At, lastAt: x.At, last: x.Value})
		}
	}
	slices.SortFunc(hs, func(a, b hourSamples) int { return a.first.Compare(b.first) })
	out := make([]rating.Piece, 0, 2*len(hs))
	for i, h := range hs {
		if !h.lastAt.Before(end) {
			break
		}
		if h.inner {
			out = append(out, rating.Piece{
				Start: h.first, End: h.lastAt, Integral: h.innerIntegral,
				Max: h.innerMax, Last: h.innerMax, LastAt: h.first,
			})
		}
		to := end
		if i+1 < len(hs) && hs[i+1].first.Before(end) {
			to = hs[i+1].first
		}
		out = append(out, rating.Piece{
			Start: h.lastAt, End: to, Integral: h.last.Mul(seconds(to.Sub(h.lastAt))),
			Max: h.last, Last: h.last, LastAt: h.lastAt,
		})
	}
	return out
}
