package postgres

import (
	"context"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/pricing"
)

// The billing reader reads whole tables (the price book is small next to
// usage) and usage: hourly rollups (see usage_rollup.go) or raw records.
// It never writes.
const (
	sqlBookMetrics    = "SELECT " + colsMetric + " FROM " + tableMetrics + " ORDER BY key"
	sqlBookProducts   = "SELECT " + colsProduct + " FROM " + tableProducts + " ORDER BY id"
	sqlBookPriceLists = "SELECT " + colsPriceList + " FROM " + tablePriceLists + " ORDER BY id"
	sqlBookPrices     = "SELECT " + colsPrice + " FROM " + tablePrices + " ORDER BY price_list_id, id"
	sqlBookCampaigns  = "SELECT " + colsCampaign + " FROM " + tableCampaigns + " ORDER BY id"
	sqlBookContracts  = "SELECT " + colsContract + " FROM " + tableContracts + " ORDER BY id"

	sqlAllCustomers  = "SELECT " + colsCustomer + " FROM " + tableCustomers + " ORDER BY id"
	sqlSomeCustomers = "SELECT " + colsCustomer + " FROM " + tableCustomers + " WHERE id = ANY($1) ORDER BY id"
)

// Billing returns the store as the billing service's reader.
func (s *Store) Billing() billing.Store { return billingReader{s: s, q: s.pool} }

// billingReader reads through q: the pool, or a transaction that holds
// several usage statements to one snapshot.
type billingReader struct {
	s *Store
	q querier
}

var _ billing.Store = billingReader{}

// Book reads the catalog and price book, and its version (book.go), in
// one read-only REPEATABLE READ transaction, so that a price written
// meanwhile is either wholly in or out, and the version is the book's.
func (b billingReader) Book(ctx context.Context) (billing.Book, int64, error) {
	var (
		out billing.Book
		v   int64
	)
	err := pgx.BeginTxFunc(ctx, b.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) (err error) {
		if out, err = readBook(ctx, tx); err != nil {
			return err
		}
		return tx.QueryRow(ctx, sqlBookVersion).Scan(&v)
	})
	return out, v, mapErr(err)
}

// readBook reads the catalog and price book with q, which must see one
// snapshot (a REPEATABLE READ transaction, or one that locks out writers).
func readBook(ctx context.Context, q querier) (out billing.Book, err error) {
	if out.Metrics, err = readAll(ctx, q, sqlBookMetrics, scanMetric); err != nil {
		return out, err
	}
	if out.Products, err = readAll(ctx, q, sqlBookProducts, scanProduct); err != nil {
		return out, err
	}
	if out.PriceLists, err = readAll(ctx, q, sqlBookPriceLists, scanPriceList); err != nil {
		return out, err
	}
	if out.Prices, err = readAll(ctx, q, sqlBookPrices, scanPrice); err != nil {
		return out, err
	}
	if out.Campaigns, err = readAll(ctx, q, sqlBookCampaigns, scanCampaign); err != nil {
		return out, err
	}
	r := repo{q: q}
	if err := r.attachEntries(ctx, out.Campaigns); err != nil {
		return out, err
	}
	out.Contracts, err = readAll(ctx, q, sqlBookContracts, scanContract)
	return out, err
}

func readAll[T any](ctx context.Context, q querier, sql string, scan pgx.RowToFunc[T]) ([]T, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan)
}

// Customers reads the customers with these ids, or all, in id order.
func (b billingReader) Customers(ctx context.Context, ids []string) ([]customer.Customer, error) {
	var rows pgx.Rows
	var err error
	if len(ids) == 0 {
		rows, err = b.s.pool.Query(ctx, sqlAllCustomers)
	} else {
		rows, err = b.s.pool.Query(ctx, sqlSomeCustomers, ids)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	cs, err := pgx.CollectRows(rows, scanCustomer)
	return cs, mapErr(err)
}

var (
	_ pgx.RowToFunc[catalog.Metric]   = scanMetric
	_ pgx.RowToFunc[pricing.Contract] = scanContract
)

// Usage columns, in the order scanUsageRows reads them. Quantities and
// dimensions travel as text: the billing service parses each distinct
// value once, which is cheaper than decoding a numeric per row.
const (
	billingUsageTable = "usage_records"
	colsBillingUsage  = "metric_key, quantity::text, start_time, end_time, receive_time, " +
		"resource_id, organisation_id, vdc_id, site, dimensions::text"

	// $1 customer, $2 metric keys, $3 from, $4 to, $5 from − lookback, $6 gauge metric keys.
	sqlScanUsage = `
		SELECT ` + colsBillingUsage + ` FROM ` + billingUsageTable + `
		WHERE customer_id = $1 AND metric_key = ANY($2) AND start_time >= $3 AND start_time < $4
		UNION ALL
		SELECT ` + colsBillingUsage + ` FROM ` + billingUsageTable + `
		WHERE customer_id = $1 AND metric_key = ANY($2) AND start_time >= $5 AND start_time < $3 AND end_time > $3
		UNION ALL
		SELECT * FROM (
			SELECT DISTINCT ON (metric_key, resource_id, organisation_id, vdc_id, site, dimensions) ` + colsBillingUsage + `
			FROM ` + billingUsageTable + `
			WHERE customer_id = $1 AND metric_key = ANY($6) AND start_time >= $5 AND start_time < $3 AND end_time = start_time
			ORDER BY metric_key, resource_id, organisation_id, vdc_id, site, dimensions,
				start_time DESC, receive_time DESC, ` + billingUsageTable + `.quantity DESC -- the number, not the output column quantity::text
		) AS carried`

	// sqlScanHourly (usage_hourly_read.go) reads the same from hourly rollups.

	// $1 customers, $2 window starts, $3 window ends, $4 metric keys.
	sqlCountUsage = `
		SELECT count(*), count(DISTINCT (u.customer_id, u.metric_key))
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS w(customer_id, from_time, to_time)
		JOIN ` + billingUsageTable + ` u ON u.customer_id = w.customer_id
			AND u.start_time >= w.from_time AND u.start_time < w.to_time
		WHERE u.metric_key = ANY($4)`
)

// ScanUsage streams what billing needs for one customer and window (see
// billing.Store): pooled hours and hourly rollups when billing says they
// rate the same as the records (w.Aligned), else the raw records.
func (b billingReader) ScanUsage(ctx context.Context, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	switch {
	case len(w.Metrics) == 0:
		return nil
	case w.Raw || !w.Aligned:
		return b.scan(ctx, sqlScanUsage, w, fn)
	case len(w.Pool) > 0:
		return b.scanPooled(ctx, w, fn) // usage_pooled_read.go
	}
	return b.scanHourly(ctx, w, fn) // usage_hourly_read.go
}

// RawBilling returns the store as a billing reader that always reads raw
// usage records: the reference the rollup reader must agree with.
func (s *Store) RawBilling() billing.Store { return rawBillingReader{billingReader{s: s, q: s.pool}} }

type rawBillingReader struct{ billingReader }

func (b rawBillingReader) ScanUsage(ctx context.Context, w billing.UsageWindow, fn func(*billing.UsageRow) error) error {
	if len(w.Metrics) == 0 {
		return nil
	}
	return b.scan(ctx, sqlScanUsage, w, fn)
}

// args are the arguments $1…$6 every usage statement of w shares.
func (b billingReader) args(w billing.UsageWindow) []any {
	gauges := w.Gauges
	if gauges == nil {
		gauges = []string{}
	}
	return []any{w.CustomerID, w.Metrics, w.From, w.To, w.From.Add(-w.Lookback), gauges}
}

// scan runs sqlScanUsage, sqlScanHourly or sqlScanPooled (they share
// args and the leading columns) and decodes rows straight from the
// driver's buffer. Further arguments ($7…) go to sql after args.
func (b billingReader) scan(ctx context.Context, sql string, w billing.UsageWindow, fn func(*billing.UsageRow) error, more ...any) error {
	rows, err := b.q.Query(ctx, sql, append(b.args(w), more...)...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	tm := rows.Conn().TypeMap()
	ts := func(i int, raw []byte) (time.Time, error) {
		if raw == nil {
			return time.Time{}, nil
		}
		// timestamptz in binary: microseconds since 2000-01-01 UTC
		if fds[i].Format == pgx.BinaryFormatCode && len(raw) == 8 {
			us := int64(binary.BigEndian.Uint64(raw))
			return time.Unix(pgEpoch+us/1e6, (us%1e6)*1e3).UTC(), nil
		}
		var t time.Time
		err := tm.Scan(fds[i].DataTypeOID, fds[i].Format, raw, &t)
		return t, err
	}
	kinds := len(fds) > 10
	var u billing.UsageRow
	for rows.Next() {
		v := rows.RawValues()
		u.MetricKey, u.Quantity = v[0], v[1]
		u.Hourly, u.Pooled = false, false
		if u.Start, err = ts(2, v[2]); err != nil {
			return mapErr(err)
		}
		if u.End, err = ts(3, v[3]); err != nil {
			return mapErr(err)
		}
		if u.Received, err = ts(4, v[4]); err != nil {
			return mapErr(err)
		}
		u.ResourceID, u.OrganisationID, u.VDCID, u.Site, u.Dimensions = v[5], v[6], v[7], v[8], v[9]
		var kind byte
		if kinds && len(v[10]) > 0 {
			kind = v[10][len(v[10])-1] & 0x0f // int2: binary big-endian, or text
		}
		switch kind {
		case 2: // sqlScanPooled's pooled hour
			u.Pooled = true
			h := &u.Hour
			h.Sum, h.Integral = v[11], v[12]
			if h.Records, err = strconv.ParseInt(string(v[13]), 10, 64); err != nil {
				return mapErr(err)
			}
		case 1: // sqlScanHourly's rollup
			u.Hourly = true
			h := &u.Hour
			h.Sum, h.Integral, h.Max, h.LastValue = v[11], v[12], v[13], v[15]
			h.InnerIntegral, h.InnerMax, h.LastSample = v[17], v[18], v[20]
			if h.LastStart, err = ts(14, v[14]); err != nil {
				return mapErr(err)
			}
			if h.FirstAt, err = ts(16, v[16]); err != nil {
				return mapErr(err)
			}
			if h.LastAt, err = ts(19, v[19]); err != nil {
				return mapErr(err)
			}
		}
		if err := fn(&u); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// pgEpoch is 2000-01-01T00:00:00Z in Unix seconds, PostgreSQL's time zero.
const pgEpoch = 946684800

// CountUsage counts the records that start in the windows, and the
// distinct (customer, metric) pairs among them.
func (b billingReader) CountUsage(ctx context.Context, ws []billing.UsageWindow) (billing.UsageCount, error) {
	var n billing.UsageCount
	if len(ws) == 0 || len(ws[0].Metrics) == 0 {
		return n, nil
	}
	ids := make([]string, len(ws))
	from := make([]time.Time, len(ws))
	to := make([]time.Time, len(ws))
	for i, w := range ws {
		ids[i], from[i], to[i] = w.CustomerID, w.From, w.To
	}
	err := b.s.pool.QueryRow(ctx, sqlCountUsage, ids, from, to, ws[0].Metrics).Scan(&n.Records, &n.Atoms)
	return n, mapErr(err)
}
