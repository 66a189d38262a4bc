package querybench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// queryTimeout bounds one query, so that a stuck billingd ends the run.
const queryTimeout = 5 * time.Minute

// monthQuery is the measured request: one customer's month by name,
// grouped by product, one line per product and month.
func monthQuery(customerID, month string) *billingv1.QueryBillingRequest {
	return &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		CustomerIds: []string{customerID},
		Month:       month,
		Granularity: billingv1.Granularity_GRANULARITY_MONTH,
		GroupBy:     []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_PRODUCT},
	}}
}

// answer is what every answer to the same query must repeat.
type answer struct {
	Total string // "<amount> <currency>", every currency
	Lines []*billingv1.BillingLine
}

func answerOf(resp *billingv1.QueryBillingResponse) (answer, error) {
	if n := len(resp.GetUnpricedUsage()); n > 0 {
		return answer{}, fmt.Errorf("%d unpriced usage entries (first: %s)", n, resp.GetUnpricedUsage()[0].GetDescription())
	}
	if resp.GetNextPageToken() != "" {
		return answer{}, errors.New("the answer has more than one page")
	}
	var totals []string
	for _, t := range resp.GetTotals() {
		totals = append(totals, t.GetAmount()+" "+t.GetCurrency())
	}
	return answer{Total: strings.Join(totals, " + "), Lines: resp.GetLines()}, nil
}

// querier sends the month query of one customer and checks each answer
// against the first one it got.
type querier struct {
	req  *billingv1.QueryBillingRequest
	mu   sync.Mutex
	want *answer
	bad  []error // wrong totals and failed queries, the first few kept
	nbad int
}

// do sends the query once on client and returns its latency; a failed
// query or a total unlike the first is counted in q.nbad and returns false.
func (q *querier) do(ctx context.Context, client billingv1.BillingServiceClient) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	start := time.Now()
	resp, err := client.QueryBilling(ctx, q.req)
	d := time.Since(start)
	var got answer
	if err == nil {
		got, err = answerOf(resp)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case err != nil:
	case q.want == nil:
		q.want = &got
	case got.Total != q.want.Total || len(got.Lines) != len(q.want.Lines):
		err = fmt.Errorf("total %s in %d lines, the first answer had %s in %d lines", got.Total, len(got.Lines), q.want.Total, len(q.want.Lines))
	}
	if err != nil {
		q.nbad++
		if len(q.bad) < 3 {
			q.bad = append(q.bad, err)
		}
		return d, false
	}
	return d, true
}

// failures is nil when every query succeeded with the same total.
func (q *querier) failures() error {
	if q.nbad == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d queries failed or disagreed, e.g.: %w", q.req.GetQuery().GetCustomerIds()[0], q.nbad, errors.Join(q.bad...))
}

// Latency summarises the latencies of the queries that succeeded.
type Latency struct {
	N                int
	P50, P99, Mean   time.Duration
	Elapsed          time.Duration // wall time of the whole measurement
	Failed           int           // queries that failed or gave another total
	Clients          int
	QueriesPerSecond float64 // N / Elapsed
}

func summarise(ds []time.Duration, elapsed time.Duration, clients, failed int) Latency {
	l := Latency{N: len(ds), Elapsed: elapsed, Clients: clients, Failed: failed}
	if len(ds) == 0 {
		return l
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	l.Mean = sum / time.Duration(len(ds))
	l.P50, l.P99 = percentile(ds, 50), percentile(ds, 99)
	l.QueriesPerSecond = float64(len(ds)) / elapsed.Seconds()
	return l
}

// percentile is the nearest-rank p-th percentile of sorted ds: the
// smallest latency that at least p% of the queries did not exceed.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ⌈p·n/100⌉
	return sorted[max(rank, 1)-1]
}

// dial opens a connection to billingd and waits until it is ready, so
// that no measured query pays for connecting.
func dial(ctx context.Context, addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if s == connectivity.TransientFailure || !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			return nil, fmt.Errorf("connect to billingd: %v", s)
		}
	}
	return conn, nil
}

// sequential sends warmups unmeasured queries and then n measured ones,
// one after the other on one connection.
func (q *querier) sequential(ctx context.Context, conn *grpc.ClientConn, warmups, n int) Latency {
	client := billingv1.NewBillingServiceClient(conn)
	for range warmups {
		q.do(ctx, client)
	}
	failedBefore := q.nbad
	ds := make([]time.Duration, 0, n)
	start := time.Now()
	for range n {
		if ctx.Err() != nil {
			break
		}
		if d, ok := q.do(ctx, client); ok {
			ds = append(ds, d)
		}
	}
	return summarise(ds, time.Since(start), 1, q.nbad-failedBefore)
}

// concurrent runs clients clients, each on its own connection, sending
// the query back to back until duration has passed since the start; the
// queries still running then are waited for and counted, so Elapsed ends
// with the last answer.
func (q *querier) concurrent(ctx context.Context, addr string, clients int, duration time.Duration) (Latency, error) {
	conns := make([]*grpc.ClientConn, clients)
	for c := range conns {
		conn, err := dial(ctx, addr)
		if err != nil {
			return Latency{}, err
		}
		defer conn.Close()
		conns[c] = conn
	}
	failedBefore := q.nbad
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all []time.Duration
	)
	start := time.Now()
	for _, conn := range conns {
		wg.Go(func() {
			client := billingv1.NewBillingServiceClient(conn)
			var ds []time.Duration
			for time.Since(start) < duration && ctx.Err() == nil {
				if d, ok := q.do(ctx, client); ok {
					ds = append(ds, d)
				}
			}
			mu.Lock()
			all = append(all, ds...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return summarise(all, time.Since(start), clients, q.nbad-failedBefore), ctx.Err()
}
