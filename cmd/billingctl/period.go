package main

import (
	"flag"
	"fmt"
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
	fs.StringVar(&q.month, "month", "", "month to bill, YYYY-MM, from midnight in the customer's billing time zone (or --tz)")
	fs.StringVar(&q.from, "from", "", "start of the period, RFC 3339 (instead of --month)")
	fs.StringVar(&q.to, "to", "", "end of the period, exclusive, RFC 3339 (with --from)")
	fs.StringVar(&q.tz, "tz", "", "time zone of --month (default: the billing time zone of the one --customer, else UTC)")
	fs.Var(&q.groupBy, "group-by", "group lines by customer, organisation, vdc, site, resource, product_group, product, model;\nrepeat or separate with commas (lines are always split by product and price)")
	fs.Var(&q.dimensions, "dimension", "usage dimension to group by as well, e.g. policy; repeatable")
	fs.StringVar(&q.granularity, "granularity", "period", "length of a line: hour, day, month or period (the whole period)")
}

var granularities = map[string]billingv1.Granularity{
	"hour": billingv1.Granularity_GRANULARITY_HOUR, "day": billingv1.Granularity_GRANULARITY_DAY,
	"month": billingv1.Granularity_GRANULARITY_MONTH, "period": billingv1.Granularity_GRANULARITY_PERIOD,
}

// query builds the billing query; with --month and no --tz it asks
// billingd for the customer's billing time zone.
func (q *queryFlags) query(e *env, conn grpc.ClientConnInterface) (*billingv1.BillingQuery, error) {
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
	from, to, err := q.period(e, conn)
	if err != nil {
		return nil, err
	}
	out.StartTime, out.EndTime = timestamppb.New(from), timestamppb.New(to)
	return out, nil
}

func (q *queryFlags) period(e *env, conn grpc.ClientConnInterface) (time.Time, time.Time, error) {
	switch {
	case q.month != "" && (q.from != "" || q.to != ""):
		return time.Time{}, time.Time{}, usagef("give --month or --from and --to, not both")
	case q.month == "" && (q.from == "" || q.to == ""):
		return time.Time{}, time.Time{}, usagef("give --month YYYY-MM, or --from and --to")
	case q.month == "":
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
	tz := q.tz
	if tz == "" && len(q.customers) == 1 {
		ctx, cancel := e.call()
		defer cancel()
		c, err := billingv1.NewCustomerServiceClient(conn).GetCustomer(ctx, &billingv1.GetCustomerRequest{CustomerId: q.customers[0]})
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("customer %s: %w", q.customers[0], err)
		}
		tz = c.GetCustomer().GetBillingTimeZone()
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Time{}, time.Time{}, usagef("time zone %q: %v", tz, err)
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
