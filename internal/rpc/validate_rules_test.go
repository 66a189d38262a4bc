package rpc_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// The timestamps a JSON or gRPC client may send: the ends of the range
// protobuf allows and the epoch, which is what an unset field reads as.
var edgeTimes = []*timestamppb.Timestamp{
	{Seconds: -62135596800},                   // 0001-01-01T00:00:00Z
	{Seconds: 253402300799, Nanos: 999999999}, // 9999-12-31T23:59:59.999999999Z
	{},
}

// A CEL rule that fails to evaluate (an overflowing timestamp subtraction,
// say) is not a validation error: the request gets Internal instead of
// InvalidArgument. Every message of the API, with every combination of its
// timestamp fields at the edges of their range, must validate or be
// rejected — never fail to run.
func TestEveryRuleRunsOnEdgeTimestamps(t *testing.T) {
	checked := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("billing.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Messages().Len(); i++ {
			md := fd.Messages().Get(i)
			var times []protoreflect.FieldDescriptor
			for j := 0; j < md.Fields().Len(); j++ {
				f := md.Fields().Get(j)
				if f.Message() != nil && f.Message().FullName() == "google.protobuf.Timestamp" && !f.IsList() && !f.IsMap() {
					times = append(times, f)
				}
			}
			if len(times) == 0 {
				continue
			}
			for _, pick := range combinations(len(times), len(edgeTimes)) {
				msg := dynamicpb.NewMessage(md)
				for k, f := range times {
					msg.Set(f, protoreflect.ValueOfMessage(edgeTimes[pick[k]].ProtoReflect()))
				}
				checked++
				if _, err := brokenRules(msg); err != nil {
					t.Errorf("%s with %v: %v", md.FullName(), describe(times, pick), err)
				}
			}
		}
		return true
	})
	if checked == 0 {
		t.Fatal("no message with a timestamp field was found: is the API registered?")
	}
}

// combinations lists every way to choose one of k values for each of n
// slots.
func combinations(n, k int) [][]int {
	out := [][]int{{}}
	for range n {
		var next [][]int
		for _, prefix := range out {
			for v := range k {
				next = append(next, append(append([]int(nil), prefix...), v))
			}
		}
		out = next
	}
	return out
}

func describe(fields []protoreflect.FieldDescriptor, pick []int) map[string]string {
	m := make(map[string]string, len(fields))
	for i, f := range fields {
		m[string(f.Name())] = edgeTimes[pick[i]].AsTime().String()
	}
	return m
}

// billing_query.length at its boundary and across centuries.
func TestBillingQueryLengthRule(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		from   time.Time
		to     time.Time
		broken []string // rule ids
	}{
		{"366 days", start, start.Add(8784 * time.Hour), nil},
		{"366 days and a nanosecond", start, start.Add(8784*time.Hour + 1), []string{"billing_query.length"}},
		{"366 days and a second", start, start.Add(8784*time.Hour + time.Second), []string{"billing_query.length"}},
		{"a thousand years", time.Date(1, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), []string{"billing_query.length"}},
		{"backwards by a thousand years", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 10, 1, 0, 0, 0, 0, time.UTC), []string{"billing_query.window"}},
		{"one hour in year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 1, 0, 0, 0, time.UTC), nil},
	}
	for _, c := range cases {
		got, err := brokenRules(&billingv1.BillingQuery{StartTime: timestamppb.New(c.from), EndTime: timestamppb.New(c.to)})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.broken) {
			t.Errorf("%s: broken rules %v, want %v", c.name, got, c.broken)
		}
	}
}

// brokenRules validates msg and returns the ids of the rules it breaks, or
// an error when the rules failed to run.
func brokenRules(msg proto.Message) ([]string, error) {
	err := protovalidate.Validate(msg)
	var verr *protovalidate.ValidationError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &verr):
		ids := make([]string, len(verr.Violations))
		for i, v := range verr.Violations {
			ids[i] = v.Proto.GetRuleId()
		}
		return ids, nil
	default:
		return nil, fmt.Errorf("rules failed to run: %w", err)
	}
}
