package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// periodsFixture: seedPricedVCPU, and in August 2026 one VM of 4 vCPU for
// 168 h: 672 vCPU-h × 0.01 = 6.72 EUR.
func periodsFixture(t *testing.T) (*server, billingv1.BillingServiceClient) {
	t.Helper()
	s := startOnTestDB(t)
	seedPricedVCPU(t, s)
	ingestVCPU(t, s, "vm1-aug", "vm1", "4", time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC), 168*time.Hour)
	return s, billingv1.NewBillingServiceClient(s.conn)
}

// ingestVCPU stores one interval record of q vCPU over [start, start+d).
func ingestVCPU(t *testing.T, s *server, key, vm, q string, start time.Time, d time.Duration) {
	t.Helper()
	resp, err := billingv1.NewUsageServiceClient(s.conn).BatchIngestUsage(context.Background(), &billingv1.BatchIngestUsageRequest{
		Records: []*billingv1.UsageRecord{{
			IdempotencyKey: key, CustomerId: "acme", MetricKey: "vm.vcpu", Quantity: q, ResourceId: vm,
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(d)),
		}},
	})
	if err != nil || resp.GetAccepted() != 1 {
		t.Fatalf("ingest %s: %v %v", key, resp, err)
	}
}

func monthQuery(y int, m time.Month) *billingv1.BillingQuery {
	from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return &billingv1.BillingQuery{
		CustomerIds: []string{"acme"}, StartTime: timestamppb.New(from), EndTime: timestamppb.New(from.AddDate(0, 1, 0)),
		GroupBy: []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_PRODUCT},
	}
}

// adjustmentRows renders the adjustment lines of a result, one string each.
func adjustmentRows(res *billingv1.QueryBillingResponse) []string {
	var out []string
	for _, l := range res.GetLines() {
		if l.GetModel() == billingv1.BillingModel_BILLING_MODEL_ADJUSTMENT {
			out = append(out, fmt.Sprintf("%s %s %s×%s=%s %s..%s", l.GetAdjustedMonth(), l.GetAdjustmentCause(), l.GetQuantity(),
				l.GetUnitPrice(), l.GetAmount(), l.GetStartTime().AsTime().Format("01-02"), l.GetEndTime().AsTime().Format("01-02")))
		}
	}
	return out
}

// reports downloads a month's report in every format over REST.
func reports(t *testing.T, s *server, month string) map[string][]byte {
	t.Helper()
	from, _ := time.Parse("2006-01", month)
	out := map[string][]byte{}
	for _, f := range []string{"csv", "xlsx", "pdf", "json", "xml"} {
		url := fmt.Sprintf("%s/v1/reports/billing?customer=acme&from=%s&to=%s&group_by=product&granularity=day&format=%s",
			s.http, from.Format(time.RFC3339), from.AddDate(0, 1, 0).Format(time.RFC3339), f)
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s report: %d %.300s", f, resp.StatusCode, body)
		}
		out[f] = body
	}
	return out
}

func totalOf(t *testing.T, res *billingv1.QueryBillingResponse) string {
	t.Helper()
	switch len(res.GetTotals()) {
	case 0:
		return "0"
	case 1:
		return res.GetTotals()[0].GetAmount()
	}
	t.Fatalf("totals in several currencies: %v", res.GetTotals())
	return ""
}

func wantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestClosedPeriodFreezesAndAdjusts walks the scenario on August
// and September 2026: close August; late August usage and an edited
// August price leave August unchanged (every report format byte for
// byte) and post adjustment lines to September; closing September freezes
// them; a further late record posts only its own difference to October;
// reopening is audited and refused while a later month is closed.
func TestClosedPeriodFreezesAndAdjusts(t *testing.T) {
	t.Parallel()
	s, bil := periodsFixture(t)
	ctx := context.Background()
	query := func(m time.Month) *billingv1.QueryBillingResponse {
		t.Helper()
		res, err := bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: monthQuery(2026, m)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := totalOf(t, query(time.August)); got != "6.72" {
		t.Fatalf("August before closing = %s, want 6.72 (672 vCPU-h × 0.01)", got)
	}

	closed, err := bil.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "acme", Month: "2026-08"})
	if err != nil {
		t.Fatal(err)
	}
	cp := closed.GetClosedPeriod()
	if cp.GetMonth() != "2026-08" || len(cp.GetTotals()) != 1 || cp.GetTotals()[0].GetAmount() != "6.72" ||
		!cp.GetStartTime().AsTime().Equal(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("closed period = %v", cp)
	}
	// Reports of a closed month print its closing time as "generated", so
	// they are the same file whenever they are made.
	before := reports(t, s, "2026-08")
	_, err = bil.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "acme", Month: "2026-08"})
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("closing August twice: %v, want AlreadyExists", err)
	}

	// Late August usage: 2 vCPU × 24 h = 48 vCPU-h; and the August price
	// goes from 0.01 to 0.02.
	ingestVCPU(t, s, "vm2-aug-late", "vm2", "2", time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	if _, err := billingv1.NewPricingServiceClient(s.conn).UpdatePrice(ctx, &billingv1.UpdatePriceRequest{
		Price:      &billingv1.Price{PriceListId: "default", Id: "vcpu-2026", UnitPrice: "0.02"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"unit_price"}},
	}); err != nil {
		t.Fatal(err)
	}

	aug := query(time.August)
	if got := totalOf(t, aug); got != "6.72" {
		t.Errorf("closed August after late usage and a price change = %s, want 6.72 unchanged", got)
	}
	after := reports(t, s, "2026-08")
	for f, b := range before {
		if !bytes.Equal(b, after[f]) {
			t.Errorf("closed August's %s report changed (%d bytes → %d)", f, len(b), len(after[f]))
		}
	}

	// September: late usage at the frozen price (48 × 0.01 = 0.48), then
	// the price change over all 720 vCPU-h: reversal at 0.01 (−7.20),
	// charge at 0.02 (+14.40). 6.72 + 0.48 − 7.20 + 14.40 = 14.40, what
	// August rates at today.
	sep := query(time.September)
	wantStrings(t, "September adjustments", adjustmentRows(sep),
		"2026-08 ADJUSTMENT_CAUSE_LATE_USAGE 48×0.01=0.48 09-01..10-01",
		"2026-08 ADJUSTMENT_CAUSE_PRICE_CHANGE -720×0.01=-7.20 09-01..10-01",
		"2026-08 ADJUSTMENT_CAUSE_PRICE_CHANGE 720×0.02=14.40 09-01..10-01",
	)
	if got := totalOf(t, sep); got != "7.68" {
		t.Errorf("September total = %s, want 7.68 (0.48 − 7.20 + 14.40)", got)
	}
	for _, l := range sep.GetLines() {
		if l.GetModel() == billingv1.BillingModel_BILLING_MODEL_ADJUSTMENT && l.GetDescription() == "" {
			t.Errorf("adjustment line without a description: %v", l)
		}
	}
	if got := totalOf(t, query(time.October)); got != "0" {
		t.Errorf("October total = %s, want 0: adjustments are booked in the first open month only", got)
	}

	// Close September: its adjustments freeze with it. Another late August
	// record (1 vCPU × 10 h) then goes to October alone, at today's price.
	if _, err := bil.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "acme", Month: "2026-09"}); err != nil {
		t.Fatal(err)
	}
	sepReports := reports(t, s, "2026-09")
	for _, want := range []string{",2026-08,late_usage", ",2026-08,price_change"} {
		if !bytes.Contains(sepReports["csv"], []byte(want)) {
			t.Errorf("September's CSV has no line ending in %q:\n%s", want, sepReports["csv"])
		}
	}
	if !bytes.Contains(sepReports["xml"], []byte("<adjustedMonth>2026-08</adjustedMonth>")) {
		t.Errorf("September's XML names no adjusted month")
	}
	ingestVCPU(t, s, "vm3-aug-late", "vm3", "1", time.Date(2026, 8, 25, 0, 0, 0, 0, time.UTC), 10*time.Hour)
	if got := totalOf(t, query(time.September)); got != "7.68" {
		t.Errorf("closed September = %s, want 7.68 unchanged", got)
	}
	for f, b := range reports(t, s, "2026-09") {
		if !bytes.Equal(b, sepReports[f]) {
			t.Errorf("closed September's %s report changed", f)
		}
	}
	oct := query(time.October)
	wantStrings(t, "October adjustments", adjustmentRows(oct),
		"2026-08 ADJUSTMENT_CAUSE_LATE_USAGE 10×0.01=0.10 10-01..11-01",
		"2026-08 ADJUSTMENT_CAUSE_PRICE_CHANGE -10×0.01=-0.10 10-01..11-01",
		"2026-08 ADJUSTMENT_CAUSE_PRICE_CHANGE 10×0.02=0.20 10-01..11-01",
	)

	list, err := bil.ListClosedPeriods(ctx, &billingv1.ListClosedPeriodsRequest{CustomerId: "acme", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetClosedPeriods()) != 1 || list.GetClosedPeriods()[0].GetMonth() != "2026-08" ||
		list.GetClosedPeriods()[0].GetLateUsageRecords() != 2 || list.GetNextPageToken() == "" {
		t.Errorf("first page = %v", list)
	}
	list, err = bil.ListClosedPeriods(ctx, &billingv1.ListClosedPeriodsRequest{CustomerId: "acme", PageToken: list.GetNextPageToken()})
	if err != nil || len(list.GetClosedPeriods()) != 1 || list.GetClosedPeriods()[0].GetMonth() != "2026-09" ||
		list.GetClosedPeriods()[0].GetTotals()[0].GetAmount() != "7.68" || list.GetNextPageToken() != "" {
		t.Errorf("second page = %v, %v", list, err)
	}

	// Reopening August while September is closed would orphan September's
	// adjustments.
	_, err = bil.ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "acme", Month: "2026-08", Reason: "re-rate"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("reopening August before September: %v, want FailedPrecondition", err)
	}
	for _, m := range []string{"2026-09", "2026-08"} {
		if _, err := bil.ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "acme", Month: m, Reason: "customer dispute #42"}); err != nil {
			t.Fatal(err)
		}
	}
	// Open again, August rates live: 672 + 48 + 10 = 730 vCPU-h × 0.02.
	if got := totalOf(t, query(time.August)); got != "14.60" {
		t.Errorf("reopened August = %s, want 14.60", got)
	}
	if rows := adjustmentRows(query(time.September)); len(rows) != 0 {
		t.Errorf("September after reopening still has adjustments %q", rows)
	}
	ev, err := billingv1.NewAccessServiceClient(s.conn).ListAuditEvents(ctx, &billingv1.ListAuditEventsRequest{ResourceType: "closed_period"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range ev.GetAuditEvents() {
		actions = append(actions, e.GetAction()+" "+e.GetResourceId())
	}
	wantStrings(t, "audit trail, newest first", actions,
		"reopen acme/2026-08", "reopen acme/2026-09", "close acme/2026-09", "close acme/2026-08")
}

func TestClosePeriodRefusals(t *testing.T) {
	t.Parallel()
	s, bil := periodsFixture(t)
	ctx := context.Background()
	thisMonth := time.Now().UTC().Format("2006-01")
	for _, c := range []struct {
		name     string
		customer string
		month    string
		want     codes.Code
	}{
		{"month not over", "acme", thisMonth, codes.FailedPrecondition},
		{"unknown customer", "nobody", "2026-08", codes.NotFound},
		{"bad month", "acme", "2026-13", codes.InvalidArgument},
	} {
		_, err := bil.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: c.customer, Month: c.month})
		if status.Code(err) != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	_, err := bil.ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "acme", Month: "2026-08", Reason: "x"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("reopening an open month: %v, want NotFound", err)
	}
	_, err = bil.ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "acme", Month: "2026-08"})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("reopening without a reason: %v, want InvalidArgument", err)
	}
	// Nothing was written: August is still open and live.
	list, err := bil.ListClosedPeriods(ctx, &billingv1.ListClosedPeriodsRequest{CustomerId: "acme"})
	if err != nil || len(list.GetClosedPeriods()) != 0 {
		t.Errorf("closed periods after refusals: %v %v", list, err)
	}
	// Over REST: the same refusal maps to 400 (failed precondition).
	resp, err := http.Post(s.http+"/v1/customers/acme/periods/"+thisMonth+":close", "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("REST close of the current month: %d, want 400", resp.StatusCode)
	}
}

// TestCloseDuringIngestion closes August while collectors keep sending
// August usage: every record commits either before the close (frozen in)
// or after it (late), so the closed total stays what the close reported,
// and closed total + adjustments equal the month rated live.
func TestCloseDuringIngestion(t *testing.T) {
	t.Parallel()
	s, bil := periodsFixture(t)
	ctx := context.Background()
	usage := billingv1.NewUsageServiceClient(s.conn)
	const batches, perBatch = 30, 40
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		for b := range batches {
			if b == 3 {
				close(started)
			}
			var recs []*billingv1.UsageRecord
			for i := range perBatch {
				start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(b*perBatch+i) * time.Hour / 2)
				recs = append(recs, &billingv1.UsageRecord{
					IdempotencyKey: fmt.Sprintf("race-%d-%d", b, i), CustomerId: "acme", MetricKey: "vm.vcpu", Quantity: "1",
					ResourceId: fmt.Sprintf("vm-race-%d", i), StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour)),
				})
			}
			if _, err := usage.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: recs}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	<-started
	closed, err := bil.ClosePeriod(ctx, &billingv1.ClosePeriodRequest{CustomerId: "acme", Month: "2026-08"})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	atClose := closed.GetClosedPeriod().GetTotals()[0].GetAmount()
	aug, err := bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: monthQuery(2026, time.August)})
	if err != nil {
		t.Fatal(err)
	}
	if got := totalOf(t, aug); got != atClose {
		t.Errorf("closed August = %s after ingestion ended, %s when it closed", got, atClose)
	}
	sep, err := bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: monthQuery(2026, time.September)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bil.ReopenPeriod(ctx, &billingv1.ReopenPeriodRequest{CustomerId: "acme", Month: "2026-08", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	live, err := bil.QueryBilling(ctx, &billingv1.QueryBillingRequest{Query: monthQuery(2026, time.August)})
	if err != nil {
		t.Fatal(err)
	}
	// 6.72 from the fixture + 1200 records × 1 vCPU-h × 0.01 = 18.72.
	if got := totalOf(t, live); got != "18.72" {
		t.Errorf("August live = %s, want 18.72", got)
	}
	sum := decimalOf(t, atClose).Add(decimalOf(t, totalOf(t, sep)))
	if !sum.Equal(decimalOf(t, "18.72")) {
		t.Errorf("closed %s + September adjustments %s = %s, want 18.72", atClose, totalOf(t, sep), sum)
	}
	t.Logf("closed at %s EUR; %s EUR posted to September", atClose, totalOf(t, sep))
}

func decimalOf(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
