package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// FuzzUsageValidation sends one fuzzed usage record through
// BatchIngestUsage (protovalidate, then the usage domain's per-record
// checks, then the store) and holds the ingest contract for every input:
//   - the answer is OK or InvalidArgument, never Internal or Unknown;
//   - an OK answer accounts for the record exactly once: accepted,
//     duplicate, or rejected with index 0, a field and a reason;
//   - sending it again stores nothing: what was accepted is a duplicate.
func FuzzUsageValidation(f *testing.F) {
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, s := range []struct {
		key, customer, metric, qty string
		start, length              int64
		dimKey, dimValue           string
	}{
		{"k1", "acme", "vm.vcpu", "4", base, 3600, "policy", "Gold"},
		{"k2", "acme", "vm.vcpu", "-1", base, 0, "", ""},
		{"k3", "nobody", "vm.vcpu", "1", base, 60, "", ""},
		{"k4", "acme", "no.such", "1e3", base, -5, "", ""},
		{"", "acme", "vm.vcpu", "0.000000000000000000001", base, 1, "bad key!", "\xff"},
		{"k6", "acme", "vm.vcpu", "NaN", 1 << 40, 1 << 40, "x", strings.Repeat("é", 300)},
		{"k7", "acme", "vm.vcpu", "99999999999999999999999999999999999999.5", -1 << 40, 7, "_ok", "v"},
	} {
		f.Add(s.key, s.customer, s.metric, s.qty, s.start, s.length, s.dimKey, s.dimValue)
	}
	usage := billingv1.NewUsageServiceClient(dial(f, fuzzApp(f)))
	f.Fuzz(func(t *testing.T, key, customer, metric, qty string, start, length int64, dimKey, dimValue string) {
		rec := &billingv1.UsageRecord{IdempotencyKey: key, CustomerId: customer, MetricKey: metric, Quantity: qty, ResourceId: "vm1"}
		if dimKey != "" {
			rec.Dimensions = map[string]string{dimKey: dimValue}
		}
		if length == 0 {
			rec.Time = &timestamppb.Timestamp{Seconds: start}
		} else {
			rec.StartTime, rec.EndTime = &timestamppb.Timestamp{Seconds: start}, &timestamppb.Timestamp{Seconds: start + length}
		}
		req := &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{rec}}
		send := func() *billingv1.BatchIngestUsageResponse {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := usage.BatchIngestUsage(ctx, req)
			switch status.Code(err) {
			case codes.OK:
			case codes.InvalidArgument:
				return nil
			default:
				// A record protobuf cannot marshal (invalid UTF-8) never leaves the client.
				if strings.Contains(err.Error(), "marshal") {
					return nil
				}
				t.Fatalf("%v: %v", rec, err)
			}
			n := resp.GetAccepted() + resp.GetDuplicates() + int32(len(resp.GetRejected()))
			if n != 1 {
				t.Fatalf("%v: accepted %d + duplicates %d + rejected %d ≠ 1", rec, resp.GetAccepted(), resp.GetDuplicates(), len(resp.GetRejected()))
			}
			for _, r := range resp.GetRejected() {
				if r.GetIndex() != 0 || r.GetReason() == "" {
					t.Fatalf("%v: rejection without index 0 and a reason: %v", rec, r)
				}
			}
			return resp
		}
		first := send()
		if first == nil || first.GetAccepted() == 0 {
			return
		}
		if again := send(); again.GetAccepted() != 0 || again.GetDuplicates() != 1 {
			t.Fatalf("%v sent twice: second answer %v, want one duplicate", rec, again)
		}
	})
}
