package main

import (
	"flag"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// queryFlags are the flags bill and report share: which customers, which
// period and how to group.
type queryFlags struct {
	customers   list
	month       string
	from, to    string
	tz          string
	groupBy     list
	dimensions  list
	granularity string
}

func (q *queryFlags) bind(fs *flag.FlagSet) {
	fs.Var(&q.customers, "customer", "customer id; repeat or separate with commas (default: all customers)")
	fs.StringVar(&q.month, "month", "", "month to bill, YYYY-MM: each customer's own month, from midnight in its billing time zone")
	fs.StringVar(&q.from, "from", "", "start of the period, RFC 3339 (instead of --month)")
	fs.StringVar(&q.to, "to", "", "end of the period, exclusive, RFC 3339 (with --from)")
	fs.StringVar(&q.tz, "tz", "", "bill --month as this time zone's month for every customer (default: each customer's own zone)")
	fs.Var(&q.groupBy, "group-by", "group lines by customer, organisation, vdc, site, resource, product_group, product, model;\nrepeat or separate with commas (lines are always split by product and price)")
	fs.Var(&q.dimensions, "dimension", "usage dimension to group by as well, e.g. policy; repeatable")
	fs.StringVar(&q.granularity, "granularity", "period", "length of a line: hour, day, month or period (the whole period)")
}

var granularities = map[string]billingv1.Granularity{
	"hour": billingv1.Granularity_GRANULARITY_HOUR, "day": billingv1.Granularity_GRANULARITY_DAY,
	"month": billingv1.Granularity_GRANULARITY_MONTH, "period": billingv1.Granularity_GRANULARITY_PERIOD,
}

// query builds the billing query. --month alone is sent as the query's
// month, which billingd reads as each customer's own month in its billing
// time zone; with --tz it becomes that zone's month, the same instants for
// every customer.
func (q *queryFlags) query() (*billingv1.BillingQuery, error) {
	out := &billingv1.BillingQuery{CustomerIds: q.customers, GroupByDimensions: q.dimensions}
	g, ok := granularities[strings.ToLower(q.granularity)]
	if !ok {
		return nil, usagef("--granularity %q: want hour, day, month or period", q.granularity)
	}
	out.Granularity = g
	for _, k := range q.groupBy {
		v, ok := billingv1.GroupBy_value["GROUP_BY_"+strings.ToUpper(k)]
		if !ok || v == 0 {
			return nil, usagef("--group-by %q: want customer, organisation, vdc, site, resource, product_group, product or model", k)
		}
		out.GroupBy = append(out.GroupBy, billingv1.GroupBy(v))
	}
	switch {
	case q.month != "" && (q.from != "" || q.to != ""):
		return nil, usagef("give --month or --from and --to, not both")
	case q.month == "" && (q.from == "" || q.to == ""):
		return nil, usagef("give --month YYYY-MM, or --from and --to")
	case q.month == "" && q.tz != "":
		return nil, usagef("--tz goes with --month; --from and --to carry their own offsets")
	}
	if q.month != "" && q.tz == "" {
		if _, err := time.Parse("2006-01", q.month); err != nil {
			return nil, usagef("--month %q: want YYYY-MM, e.g. 2026-10", q.month)
		}
		out.Month = q.month
		return out, nil
	}
	from, to, err := q.window()
	if err != nil {
		return nil, err
	}
	out.StartTime, out.EndTime = timestamppb.New(from), timestamppb.New(to)
	return out, nil
}

// window is --from and --to, or --month in --tz.
func (q *queryFlags) window() (time.Time, time.Time, error) {
	if q.month == "" {
		from, err := time.Parse(time.RFC3339, q.from)
		if err != nil {
			return time.Time{}, time.Time{}, usagef("--from %q: want an RFC 3339 time such as 2026-10-01T00:00:00Z", q.from)
		}
		to, err := time.Parse(time.RFC3339, q.to)
		if err != nil {
			return time.Time{}, time.Time{}, usagef("--to %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", q.to)
		}
		return from, to, nil
	}
	loc, err := time.LoadLocation(q.tz)
	if err != nil {
		return time.Time{}, time.Time{}, usagef("--tz %q: %v", q.tz, err)
	}
	m, err := time.ParseInLocation("2006-01", q.month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, usagef("--month %q: want YYYY-MM, e.g. 2026-10", q.month)
	}
	return m, m.AddDate(0, 1, 0), nil
}

// list is a flag that may be repeated and takes comma-separated values.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// withConn dials billingd, runs f and closes the connection.
func withConn(e *env, f func(conn *grpc.ClientConn) error) error {
	conn, err := e.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return f(conn)
}
