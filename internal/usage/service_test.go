package usage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/usage"
)

// memRepo is a Repository in memory: customers and metrics to look up, and
// the records stored so far (by identity, and the first of each key by key).
type memRepo struct {
	customers map[string]bool
	metrics   map[string]usage.MetricRule
	ids       map[usage.Identity]bool
	stored    map[string]usage.Record
	inserts   int
	fail      error
}

func newMemRepo() *memRepo {
	return &memRepo{
		customers: map[string]bool{"acme": true, "globex": true},
		metrics: map[string]usage.MetricRule{
			"vm.vcpu": {Aggregation: catalog.AggregationTimeWeightedAvg}, "net.egress_gb": {Aggregation: catalog.AggregationSum},
			"backup.vms": {Aggregation: catalog.AggregationUniqueCount, UniqueDimension: "vm_id"},
		},
		ids:    map[usage.Identity]bool{},
		stored: map[string]usage.Record{},
	}
}

func (m *memRepo) KnownCustomers(_ context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		if m.customers[id] {
			out[id] = true
		}
	}
	return out, nil
}

func (m *memRepo) MetricRules(_ context.Context, keys []string) (map[string]usage.MetricRule, error) {
	out := map[string]usage.MetricRule{}
	for _, k := range keys {
		if a, ok := m.metrics[k]; ok {
			out[k] = a
		}
	}
	return out, nil
}

func (m *memRepo) Insert(_ context.Context, rs []usage.Record) (int, error) {
	m.inserts++
	if m.fail != nil {
		return 0, m.fail
	}
	n := 0
	for _, r := range rs {
		if id := r.Identity(); !m.ids[id] {
			m.ids[id] = true
			if _, ok := m.stored[r.Key]; !ok {
				m.stored[r.Key] = r
			}
			n++
		}
	}
	return n, nil
}

func (m *memRepo) List(context.Context, usage.ListParams) ([]usage.Record, string, error) {
	return nil, "", nil
}

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func newService() (*usage.Service, *memRepo) {
	repo := newMemRepo()
	return usage.New(repo, clock.NewFake(now)), repo
}

// good is a valid point record of acme's vCPUs.
func good(key string) usage.Input {
	return usage.Input{Key: key, CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: "4", Time: now.Add(-time.Hour)}
}

func TestIngestRejectsEachBadRecordAlone(t *testing.T) {
	t.Parallel()
	with := func(f func(*usage.Input)) usage.Input { in := good("k"); f(&in); return in }
	cases := []struct {
		name   string
		in     usage.Input
		field  string
		reason string // a substring of the reason
	}{
		{"missing key", with(func(in *usage.Input) { in.Key = "" }), "idempotency_key", "required"},
		{"key too long", with(func(in *usage.Input) { in.Key = strings.Repeat("ü", 257) }), "idempotency_key", "at most 256"},
		{"NUL in key", with(func(in *usage.Input) { in.Key = "a\x00b" }), "idempotency_key", "NUL"},
		{"bad UTF-8", with(func(in *usage.Input) { in.Source = "\xff" }), "source", "UTF-8"},
		{"missing customer", with(func(in *usage.Input) { in.CustomerID = "" }), "customer_id", "required"},
		{"customer format", with(func(in *usage.Input) { in.CustomerID = "-acme" }), "customer_id", "must match"},
		{"unknown customer", with(func(in *usage.Input) { in.CustomerID = "initech" }), "customer_id", `customer "initech" not found`},
		{"metric format", with(func(in *usage.Input) { in.MetricKey = "VM.vcpu" }), "metric_key", "must match"},
		{"metric too long", with(func(in *usage.Input) { in.MetricKey = strings.Repeat("a", 101) }), "metric_key", "at most 100"},
		{"unknown metric", with(func(in *usage.Input) { in.MetricKey = "vm.gpu" }), "metric_key", `metric "vm.gpu" not found`},
		{"missing quantity", with(func(in *usage.Input) { in.Quantity = "" }), "quantity", "required"},
		{"exponent", with(func(in *usage.Input) { in.Quantity = "1e3" }), "quantity", "plain decimal"},
		{"not a number", with(func(in *usage.Input) { in.Quantity = "abc" }), "quantity", "plain decimal"},
		{"comma", with(func(in *usage.Input) { in.Quantity = "1,5" }), "quantity", "plain decimal"},
		{"quantity too long", with(func(in *usage.Input) { in.Quantity = strings.Repeat("1", 65) }), "quantity", "at most 64"},
		{"negative gauge", with(func(in *usage.Input) { in.Quantity = "-1" }), "quantity", "time_weighted_avg"},
		{"negative distinct", with(func(in *usage.Input) { in.MetricKey, in.Quantity = "backup.vms", "-1" }), "quantity", "only sum metrics"},
		{"distinct without its dimension", with(func(in *usage.Input) { in.MetricKey = "backup.vms" }), "dimensions.vm_id", `metric "backup.vms" (unique_count) counts distinct values of dimension "vm_id"`},
		{"no time", with(func(in *usage.Input) { in.Time = time.Time{} }), "time", "required"},
		{"time and window", with(func(in *usage.Input) { in.Start, in.End = now.Add(-2*time.Hour), now }), "time", "not both"},
		{"start only", with(func(in *usage.Input) { in.Time, in.Start = time.Time{}, now.Add(-time.Hour) }), "end_time", "required"},
		{"end only", with(func(in *usage.Input) { in.Time, in.End = time.Time{}, now }), "start_time", "required"},
		{"end before start", with(func(in *usage.Input) { in.Time, in.Start, in.End = time.Time{}, now, now.Add(-time.Hour) }), "end_time", "after start_time"},
		{"empty window", with(func(in *usage.Input) { in.Time, in.Start, in.End = time.Time{}, now, now }), "end_time", "after start_time"},
		{"window empty at µs", with(func(in *usage.Input) {
			in.Time, in.Start, in.End = time.Time{}, now.Add(100), now.Add(900) // both truncate to now
		}), "end_time", "after start_time"},
		{"far future", with(func(in *usage.Input) { in.Time = now.Add(61 * time.Minute) }), "time", "future"},
		{"window ends far in the future", with(func(in *usage.Input) {
			in.Time, in.Start, in.End = time.Time{}, now, now.Add(2*time.Hour)
		}), "end_time", "future"},
		{"before 2000", with(func(in *usage.Input) { in.Time = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC) }), "time", "before 2000-01-01"},
		{"window before 2000", with(func(in *usage.Input) {
			in.Time, in.Start, in.End = time.Time{}, time.Unix(0, 0), now
		}), "start_time", "before 2000-01-01"},
		{"resource too long", with(func(in *usage.Input) { in.ResourceID = strings.Repeat("r", 257) }), "resource_id", "at most 256"},
		{"organisation too long", with(func(in *usage.Input) { in.OrganisationID = strings.Repeat("o", 129) }), "organisation_id", "at most 128"},
		{"vdc too long", with(func(in *usage.Input) { in.VdcID = strings.Repeat("v", 129) }), "vdc_id", "at most 128"},
		{"site too long", with(func(in *usage.Input) { in.Site = strings.Repeat("s", 129) }), "site", "at most 128"},
		{"too many dimensions", with(func(in *usage.Input) {
			in.Dimensions = map[string]string{}
			for i := range 33 {
				in.Dimensions[fmt.Sprintf("d%d", i)] = "x"
			}
		}), "dimensions", "at most 32"},
		{"dimension key", with(func(in *usage.Input) { in.Dimensions = map[string]string{"1x": "a"} }), `dimensions["1x"]`, "key must match"},
		{"dimension value", with(func(in *usage.Input) { in.Dimensions = map[string]string{"policy": strings.Repeat("g", 257)} }), `dimensions["policy"]`, "at most 256"},
		{"NUL in dimension", with(func(in *usage.Input) { in.Dimensions = map[string]string{"policy": "a\x00"} }), `dimensions["policy"]`, "NUL"},
		{"transport", with(func(in *usage.Input) {
			in.DecodeError = &usage.FieldError{Field: "time", Reason: "is not a valid timestamp"}
		}), "time", "valid timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			svc, repo := newService()
			bad := c.in
			if bad.Key == "k" { // unique in the batch unless the case is about the key
				bad.Key = "bad"
			}
			res, err := svc.Ingest(context.Background(), []usage.Input{good("before"), bad, good("after")})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 2 || res.Duplicates != 0 || len(res.Rejected) != 1 {
				t.Fatalf("result %+v, want 2 accepted and 1 rejected", res)
			}
			r := res.Rejected[0]
			if r.Index != 1 || r.Key != bad.Key || r.Field != c.field || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("rejection %+v, want index 1 key %q field %q reason containing %q", r, bad.Key, c.field, c.reason)
			}
			if _, ok := repo.stored["before"]; !ok || len(repo.stored) != 2 {
				t.Errorf("stored %v, want before and after", repo.stored)
			}
		})
	}
}

func TestIngestAcceptsEveryValidShape(t *testing.T) {
	t.Parallel()
	svc, repo := newService()
	in := []usage.Input{
		{Key: "point", CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: "4", Time: now.Add(59 * time.Minute)},
		{Key: "window", CustomerID: "globex", MetricKey: "net.egress_gb", Quantity: "12.500",
			Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), End: now.Add(time.Hour),
			ResourceID: "vm-1", OrganisationID: "org", VdcID: "vdc", Site: "fra1", Source: "vcenter:vc01",
			Dimensions: map[string]string{"policy": "Gold", "_x.y-z": ""}},
		{Key: "correction", CustomerID: "acme", MetricKey: "net.egress_gb", Quantity: "-2.5", Time: now},
		{Key: "zone", CustomerID: "acme", MetricKey: "vm.vcpu", Quantity: "0",
			Time: time.Date(2026, 3, 15, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))},
	}
	res, err := svc.Ingest(context.Background(), in)
	if err != nil || res.Accepted != 4 || len(res.Rejected) != 0 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	p := repo.stored["point"]
	if !p.IsPoint() || !p.ReceiveTime.Equal(now) || p.Dimensions == nil {
		t.Errorf("point stored as %+v", p)
	}
	w := repo.stored["window"]
	if w.IsPoint() || w.Quantity.String() != "12.5" || w.Quantity.Exponent() != -3 {
		t.Errorf("window stored as %+v", w)
	}
	z := repo.stored["zone"]
	if want := time.Date(2026, 3, 15, 12, 0, 0, 123456000, time.UTC); !z.Start.Equal(want) || z.Start.Location() != time.UTC {
		t.Errorf("time stored as %v, want %v (UTC, µs)", z.Start, want)
	}
}

func TestIngestDuplicates(t *testing.T) {
	t.Parallel()
	svc, repo := newService()
	ctx := context.Background()
	first := good("k1")
	second := good("k1")
	second.Quantity = "99"
	badFirst := good("k2")
	badFirst.Quantity = "x"
	res, err := svc.Ingest(ctx, []usage.Input{first, second, badFirst, good("k2"), good("k3")})
	if err != nil {
		t.Fatal(err)
	}
	// k1 twice: the first wins; k2's first record is invalid, so its second is stored.
	if res.Accepted != 3 || res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 2 {
		t.Fatalf("result %+v", res)
	}
	if q := repo.stored["k1"].Quantity.String(); q != "4" {
		t.Errorf("k1 stored with quantity %s, want the first record's 4", q)
	}
	// Resent: everything is a duplicate.
	res, err = svc.Ingest(ctx, []usage.Input{first, good("k2"), good("k3")})
	if err != nil || res.Accepted != 0 || res.Duplicates != 3 {
		t.Fatalf("resend = %+v, %v", res, err)
	}
	// k1 for another customer, metric or time is another record (usage.Identity).
	otherCustomer, otherMetric, otherTime := first, first, first
	otherCustomer.CustomerID, otherMetric.MetricKey = "globex", "net.egress_gb"
	otherTime.Time = otherTime.Time.Add(-time.Minute)
	res, err = svc.Ingest(ctx, []usage.Input{otherCustomer, otherMetric, otherTime, first})
	if err != nil || res.Accepted != 3 || res.Duplicates != 1 {
		t.Fatalf("same key, other identities = %+v, %v; want 3 accepted, 1 duplicate", res, err)
	}
}

func TestIngestBatchLimits(t *testing.T) {
	t.Parallel()
	svc, repo := newService()
	ctx := context.Background()
	for _, n := range []int{0, usage.MaxBatch + 1} {
		_, err := svc.Ingest(ctx, make([]usage.Input, n))
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Violations) != 1 || e.Violations[0].Field != "records" {
			t.Errorf("%d records: %v, want Invalid on records", n, err)
		}
	}
	full := make([]usage.Input, usage.MaxBatch)
	for i := range full {
		full[i] = good(fmt.Sprint(i))
	}
	if res, err := svc.Ingest(ctx, full); err != nil || res.Accepted != usage.MaxBatch {
		t.Errorf("a full batch: %+v, %v", res.Accepted, err)
	}
	// A batch with nothing valid does not reach the database.
	before := repo.inserts
	if res, err := svc.Ingest(ctx, []usage.Input{{Key: "x"}}); err != nil || len(res.Rejected) != 1 {
		t.Errorf("all bad: %+v, %v", res, err)
	}
	if repo.inserts != before {
		t.Error("an all-bad batch called Insert")
	}
}

func TestIngestPassesStoreErrorsOn(t *testing.T) {
	t.Parallel()
	svc, repo := newService()
	repo.fail = apperr.New(apperr.KindUnavailable, "database unavailable, retry")
	_, err := svc.Ingest(context.Background(), []usage.Input{good("k")})
	if apperr.KindOf(err) != apperr.KindUnavailable || !errors.Is(err, repo.fail) {
		t.Errorf("err = %v, want the store's Unavailable", err)
	}
}

func TestListValidates(t *testing.T) {
	t.Parallel()
	svc, _ := newService()
	_, _, err := svc.List(context.Background(), usage.ListParams{CustomerID: "-x", PageSize: -1, From: now, To: now})
	e, ok := apperr.As(err)
	if !ok || len(e.Violations) != 3 {
		t.Errorf("List = %v, want three violations", err)
	}
}
